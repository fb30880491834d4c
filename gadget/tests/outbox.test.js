/**
 * The decision outbox: every decision is kept in localStorage until the service has stored it or
 * refused it for good; batches, retries, later page views, pagehide, other tabs.
 *
 * The gadget runs as deployed; a fake clock and timer replace Outbox.prototype.now, schedule and
 * cancel, so that retries run when a test says so.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
'use strict';

const { test, afterEach } = require( 'node:test' );
const assert = require( 'node:assert/strict' );
const {
	loadGadget, fakeFetch, batchAnswer, batches, suggestionsResponse, category, settle, items,
	submitWith, VIEW_PAGE
} = require( './helpers' );

const PAGE = 'Albedo.\n\n[[Category:Optics]]\n';
const KEY = 'wiki-suggest-outbox';
const BACKEND = 'https://wiki-suggest.toolforge.org';
const DAY = 24 * 60 * 60 * 1000;
const RETRYING = 'Your choice is not recorded by the tool yet. It will be sent again automatically.';

/**
 * A clock and a timer under the test's control.
 *
 * @return {Object}
 */
function fakeTime() {
	const time = { now: Date.parse( '2026-05-01T12:00:00Z' ), jobs: [] };
	time.methods = {
		now: () => time.now,
		schedule: ( fn, ms ) => {
			const job = { fn, ms, due: time.now + ms };
			time.jobs.push( job );
			return job;
		},
		cancel: ( job ) => {
			time.jobs = time.jobs.filter( ( other ) => other !== job );
		}
	};
	/** @return {number[]} The delays of the scheduled jobs */
	time.delays = () => time.jobs.map( ( job ) => job.ms );
	/**
	 * Move the clock to the next job and run it.
	 *
	 * @return {Promise<number>} Its delay
	 */
	time.runNext = async () => {
		assert.ok( time.jobs.length, 'a job is scheduled' );
		const job = time.jobs.reduce( ( a, b ) => ( b.due < a.due ? b : a ) );
		time.jobs = time.jobs.filter( ( other ) => other !== job );
		time.now = Math.max( time.now, job.due );
		job.fn();
		await settle();
		return job.ms;
	};
	return time;
}

/**
 * A service whose batch answers the test sets as it goes: `service.decide( call )` returns an
 * answer (default: all stored), `service.edits( call )` the answer to an edit report (default:
 * linked); `service.gate` (a promise) holds the batch answers back, and `service.hold()` sets
 * one and returns the function that opens it.
 *
 * @param {string[]} ids Suggestion ids on the page
 * @return {Function} fetch, with .decide, .edits, .gate and .hold
 */
function service( ids ) {
	const fetch = fakeFetch( async ( call ) => {
		if ( call.path === '/api/v1/suggestions' ) {
			return { status: 200, body: suggestionsResponse( ( ids || [ 's1', 's2', 's3' ] ).map( ( id ) => category( id, `Topic ${ id }` ) ) ) };
		}
		if ( call.path === '/api/v1/decisions/batch' ) {
			await fetch.gate;
			return fetch.decide( call );
		}
		return fetch.edits( call );
	} );
	fetch.decide = ( call ) => batchAnswer( call.body );
	fetch.edits = () => ( { status: 201, body: { linked: 1 } } );
	fetch.gate = null;
	fetch.hold = () => {
		let open;
		fetch.gate = new Promise( ( resolve ) => {
			open = resolve;
		} );
		return open;
	};
	return fetch;
}

/**
 * The edit page with the outbox on a fake clock.
 *
 * @param {Function} [decide] The service's answer to a batch (default: all stored)
 * @return {Promise<{time: Object, fetch: Function}>}
 */
async function editPage( decide ) {
	const time = fakeTime();
	const fetch = service();
	if ( decide ) {
		fetch.decide = decide;
	}
	await loadGadget( { text: PAGE, fetch, outbox: time.methods } );
	return { time, fetch };
}

const DOWN = { status: 503, body: { error: { code: 'database_unavailable', message: 'The database is not available right now; nothing was stored.' } } };

function stored() {
	return JSON.parse( window.localStorage.getItem( KEY ) || '[]' );
}

function entry( id, extra ) {
	return Object.assign( {
		id: `e-${ id }`,
		body: { suggestion_id: id, decision: 'skip' },
		user: 'Example',
		backend: BACKEND,
		ts: Date.parse( '2026-05-01T11:00:00Z' ),
		tries: 0
	}, extra || {} );
}

function status( item ) {
	const element = item.querySelector( '.wiki-suggest-item-status' );
	return { text: element.textContent, error: element.classList.contains( 'wiki-suggest-item-error' ) };
}

function reject( item, reason ) {
	item.querySelector( '.wiki-suggest-reject' ).click();
	item.querySelector( `.wiki-suggest-reason[data-reason="${ reason }"]` ).click();
}

function skip( item ) {
	item.querySelector( '.wiki-suggest-skip' ).click();
}

function view( fetch, time, config ) {
	return loadGadget( {
		html: VIEW_PAGE, fetch, keepOutbox: true, outbox: time.methods,
		config: Object.assign( { wgAction: 'view' }, config || {} )
	} );
}

afterEach( () => {
	// No timer of the last page outlives the test.
	if ( mw.libs.wikiSuggest && mw.libs.wikiSuggest.outbox ) {
		mw.libs.wikiSuggest.outbox.stop();
	}
} );

test( 'a lone decision is sent at once and alone, and leaves the outbox when stored', async () => {
	const { time, fetch } = await editPage();
	skip( items()[ 0 ] );
	// No waiting: the request is made in the click.
	assert.deepEqual( batches( fetch ), [ [ { suggestion_id: 's1', decision: 'skip' } ] ] );
	const call = fetch.calls[ fetch.calls.length - 1 ];
	assert.equal( call.url, `${ BACKEND }/api/v1/decisions/batch` );
	assert.equal( call.body.user, 'Example' );
	assert.equal( call.keepalive, false );
	// Until the answer, the decision is in localStorage, claimed by this page.
	const [ waiting ] = stored();
	assert.deepEqual( waiting.body, { suggestion_id: 's1', decision: 'skip' } );
	assert.equal( waiting.user, 'Example' );
	assert.equal( waiting.backend, BACKEND );
	assert.equal( waiting.ts, time.now );
	assert.equal( waiting.tries, 1 );
	assert.equal( waiting.claim.ts, time.now );

	await settle();
	assert.equal( window.localStorage.getItem( KEY ), null );
	assert.deepEqual( status( items()[ 0 ] ), { text: 'Skipped.', error: false } );
	assert.deepEqual( time.jobs, [], 'nothing to retry' );
} );

test( 'decisions made while a request is in flight go together in the next request', async () => {
	const time = fakeTime();
	const fetch = service();
	const open = fetch.hold();
	await loadGadget( { text: PAGE, fetch, outbox: time.methods } );
	const [ first, second, third ] = items();
	skip( first );
	await settle();
	reject( second, 'too_general' );
	third.querySelector( '.wiki-suggest-comment' ).value = 'x';
	skip( third );
	await settle();
	assert.equal( batches( fetch ).length, 1, 'one request in flight at a time' );
	assert.equal( stored().length, 3, 'the waiting ones are kept meanwhile' );

	open();
	await settle();
	assert.deepEqual( batches( fetch ), [
		[ { suggestion_id: 's1', decision: 'skip' } ],
		[ { suggestion_id: 's2', decision: 'reject', reason: 'too_general' }, { suggestion_id: 's3', decision: 'skip' } ]
	] );
	assert.equal( fetch.calls[ fetch.calls.length - 1 ].body.user, 'Example' );
	assert.equal( window.localStorage.getItem( KEY ), null );
	assert.deepEqual( items().map( ( item ) => status( item ).text ), [ 'Skipped.', 'Rejected. Thank you.', 'Skipped.' ] );
} );

test( 'per decision: stored (201), already decided on a first attempt (409), refused for good (404)', async () => {
	const { time, fetch } = await editPage( ( call ) => batchAnswer( call.body, ( d ) => ( { s1: 201, s2: 409, s3: 404 }[ d.suggestion_id ] ) ) );
	items().forEach( skip );
	await settle();
	assert.deepEqual( batches( fetch ).map( ( batch ) => batch.map( ( d ) => d.suggestion_id ) ), [ [ 's1' ], [ 's2', 's3' ] ] );
	const [ first, second, third ] = items();
	assert.deepEqual( status( first ), { text: 'Skipped.', error: false } );
	assert.deepEqual( status( second ), { text: 'Your earlier choice for this suggestion was already recorded.', error: false } );
	assert.deepEqual( status( third ), { text: 'Your choice could not be sent to the tool.', error: true } );
	assert.equal( window.localStorage.getItem( KEY ), null, 'every answer was final' );
	assert.deepEqual( time.jobs, [] );
} );

test( 'the service down (503): the decisions stay, the items say they will be sent again, and get their status back once stored', async () => {
	const { time, fetch } = await editPage( () => DOWN );
	const [ first, second, third ] = items();
	skip( first );
	await settle();
	assert.deepEqual( status( first ), { text: RETRYING, error: true } );
	assert.deepEqual( time.delays(), [ 2000 ] );
	assert.deepEqual( stored().map( ( e ) => [ e.body.suggestion_id, e.tries, e.claim ] ), [ [ 's1', 1, undefined ] ] );

	// Made while the retry is due: waits for it, and says so at once.
	reject( second, 'other' );
	await settle();
	assert.equal( batches( fetch ).length, 1 );
	assert.deepEqual( status( second ), { text: RETRYING, error: true } );

	assert.equal( await time.runNext(), 2000 );
	assert.deepEqual( batches( fetch )[ 1 ].map( ( d ) => d.suggestion_id ), [ 's1', 's2' ] );
	assert.deepEqual( time.delays(), [ 4000 ], 'the delay doubles' );

	// Back: s1's earlier attempt was stored after all (409 on a retry: silent), s2 is stored now.
	fetch.decide = ( call ) => batchAnswer( call.body, ( d ) => ( d.suggestion_id === 's1' ? 409 : 201 ) );
	assert.equal( await time.runNext(), 4000 );
	assert.deepEqual( status( first ), { text: 'Skipped.', error: false } );
	assert.deepEqual( status( second ), { text: 'Rejected. Thank you.', error: false } );
	assert.equal( window.localStorage.getItem( KEY ), null );
	assert.deepEqual( time.jobs, [] );

	// The backoff starts again from 2 s.
	fetch.decide = () => DOWN;
	skip( third );
	await settle();
	assert.deepEqual( time.delays(), [ 2000 ] );
} );

test( '429 waits as long as Retry-After says; network errors and timeouts back off from 2 s up to 5 minutes', async () => {
	const { time, fetch } = await editPage( () => ( { status: 429, headers: { 'Retry-After': '7' }, body: { error: { code: 'rate_limited' } } } ) );
	const [ first ] = items();
	skip( first );
	await settle();
	assert.deepEqual( time.delays(), [ 7000 ] );
	assert.deepEqual( status( first ), { text: RETRYING, error: true } );

	fetch.decide = () => new Error( 'Failed to fetch' );
	const delays = [];
	for ( let i = 0; i < 10; i++ ) {
		await time.runNext();
		delays.push( ...time.delays() );
	}
	assert.deepEqual( delays, [ 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000, 300000 ] );
	assert.equal( stored().length, 1 );
	assert.equal( stored()[ 0 ].tries, 11 );

	fetch.decide = ( call ) => batchAnswer( call.body );
	await time.runNext();
	assert.deepEqual( status( first ), { text: 'Skipped.', error: false } );
	assert.equal( window.localStorage.getItem( KEY ), null );
} );

test( 'a request that times out is aborted and sent again', async () => {
	const time = fakeTime();
	let hang = true;
	const inner = service();
	const fetch = ( url, init ) => {
		if ( hang && url.includes( '/decisions/batch' ) ) {
			inner.calls.push( { path: '/api/v1/decisions/batch', body: JSON.parse( init.body ) } );
			return new Promise( ( resolve, fail ) => {
				init.signal.addEventListener( 'abort', () => fail( new Error( 'aborted' ) ) );
			} );
		}
		return inner( url, init );
	};
	await loadGadget( { text: PAGE, fetch, outbox: time.methods, settings: { timeout: 30 } } );
	skip( items()[ 0 ] );
	await new Promise( ( resolve ) => {
		setTimeout( resolve, 60 );
	} );
	assert.deepEqual( status( items()[ 0 ] ), { text: RETRYING, error: true } );
	assert.deepEqual( time.delays(), [ 2000 ] );
	hang = false;
	await time.runNext();
	assert.equal( batches( inner ).length, 2 );
	assert.deepEqual( status( items()[ 0 ] ), { text: 'Skipped.', error: false } );
} );

test( 'decisions left by an earlier page are sent when the next page starts, also on a view', async () => {
	const { time } = await editPage( () => new Error( 'Failed to fetch' ) );
	skip( items()[ 0 ] );
	await settle();
	reject( items()[ 1 ], 'wrong_topic' );
	await settle();
	assert.equal( stored().length, 2 );

	// The tab is closed; later the editor views some page.
	const fetch = service();
	fetch.decide = ( call ) => batchAnswer( call.body, ( d ) => ( d.suggestion_id === 's1' ? 409 : 201 ) );
	time.now += 60 * 60 * 1000;
	assert.equal( await view( fetch, time, { wgPageName: 'Other' } ), false );
	await settle();
	assert.deepEqual( fetch.calls.map( ( call ) => call.path ), [ '/api/v1/decisions/batch' ] );
	assert.deepEqual( fetch.calls[ 0 ].body, {
		user: 'Example',
		decisions: [ { suggestion_id: 's1', decision: 'skip' }, { suggestion_id: 's2', decision: 'reject', reason: 'wrong_topic' } ]
	} );
	assert.equal( window.localStorage.getItem( KEY ), null );
} );

test( 'a request holds one user\'s decisions (the oldest entry\'s user first) for one service', async () => {
	const time = fakeTime();
	window.localStorage.clear();
	window.localStorage.setItem( KEY, JSON.stringify( [
		entry( 'a1', { user: 'Alice' } ),
		entry( 'b1', { user: 'Bob' } ),
		entry( 'a2', { user: 'Alice', body: { suggestion_id: 'a2', decision: 'reject', reason: 'other', comment: 'no' } } ),
		entry( 'n1', { user: null } ),
		entry( 'l1', { user: 'Alice', backend: 'http://127.0.0.1:8000' } ),
		entry( 'b2', { user: 'Bob', body: { suggestion_id: 'b2', decision: 'accept' } } )
	] ) );
	const fetch = service();
	await view( fetch, time );
	await settle();
	assert.deepEqual( fetch.calls.map( ( call ) => [ call.url, call.body ] ), [
		[ `${ BACKEND }/api/v1/decisions/batch`, { user: 'Alice', decisions: [
			{ suggestion_id: 'a1', decision: 'skip' },
			{ suggestion_id: 'a2', decision: 'reject', reason: 'other', comment: 'no' }
		] } ],
		[ `${ BACKEND }/api/v1/decisions/batch`, { user: 'Bob', decisions: [
			{ suggestion_id: 'b1', decision: 'skip' }, { suggestion_id: 'b2', decision: 'accept' }
		] } ],
		[ `${ BACKEND }/api/v1/decisions/batch`, { decisions: [ { suggestion_id: 'n1', decision: 'skip' } ] } ],
		[ 'http://127.0.0.1:8000/api/v1/decisions/batch', { user: 'Alice', decisions: [ { suggestion_id: 'l1', decision: 'skip' } ] } ]
	] );
	assert.equal( window.localStorage.getItem( KEY ), null );
} );

test( 'at most 20 decisions and about 12 kB of JSON go in one request', async () => {
	const time = fakeTime();
	window.localStorage.setItem( KEY, JSON.stringify( Array.from( { length: 45 }, ( _, i ) => entry( `p${ i }` ) ) ) );
	let fetch = service();
	await view( fetch, time );
	await settle();
	assert.deepEqual( batches( fetch ).map( ( batch ) => batch.length ), [ 20, 20, 5 ] );
	assert.deepEqual( batches( fetch ).flat().map( ( d ) => d.suggestion_id ), Array.from( { length: 45 }, ( _, i ) => `p${ i }` ) );

	// Comments of 500 Bengali letters: 1.5 kB each in UTF-8.
	const comment = 'দ'.repeat( 500 );
	window.localStorage.setItem( KEY, JSON.stringify( Array.from( { length: 20 }, ( _, i ) => entry( `c${ i }`, {
		body: { suggestion_id: `c${ i }`, decision: 'reject', reason: 'other', comment }
	} ) ) ) );
	fetch = service();
	await view( fetch, time );
	await settle();
	const sizes = fetch.calls.map( ( call ) => call.bytes );
	assert.ok( sizes.every( ( bytes ) => bytes <= 12000 ), sizes.join() );
	assert.ok( sizes.length === 3 && fetch.calls[ 0 ].body.decisions.length === 7, sizes.join() );
	assert.deepEqual( batches( fetch ).flat().map( ( d ) => d.suggestion_id ), Array.from( { length: 20 }, ( _, i ) => `c${ i }` ) );
	assert.equal( window.localStorage.getItem( KEY ), null );
} );

test( '413: half as many decisions per request; a single one still too large is refused for good', async () => {
	const time = fakeTime();
	window.localStorage.setItem( KEY, JSON.stringify( Array.from( { length: 10 }, ( _, i ) => entry( `p${ i }` ) ) ) );
	const fetch = service();
	const tooLarge = { status: 413, body: { error: { code: 'payload_too_large' } } };
	fetch.decide = ( call ) => ( call.body.decisions.length > 3 ? tooLarge : batchAnswer( call.body ) );
	await view( fetch, time );
	await settle();
	assert.deepEqual( batches( fetch ).map( ( batch ) => batch.length ), [ 10, 5, 2, 8, 4, 2, 6, 3, 3 ] );
	assert.equal( window.localStorage.getItem( KEY ), null );
	assert.deepEqual( time.jobs, [], 'no waiting' );

	fetch.decide = () => tooLarge;
	await loadGadget( { text: PAGE, fetch, outbox: time.methods } );
	skip( items()[ 0 ] );
	await settle();
	assert.deepEqual( status( items()[ 0 ] ), { text: 'Your choice could not be sent to the tool.', error: true } );
	assert.equal( window.localStorage.getItem( KEY ), null );
} );

test( 'a request refused as a whole (400, 415) drops its decisions as refused', async () => {
	for ( const code of [ 400, 415 ] ) {
		const time = fakeTime();
		const fetch = service();
		fetch.decide = () => ( { status: code, body: { error: { code: 'invalid_body' } } } );
		await loadGadget( { text: PAGE, fetch, outbox: time.methods } );
		skip( items()[ 0 ] );
		await settle();
		assert.deepEqual( status( items()[ 0 ] ), { text: 'Your choice could not be sent to the tool.', error: true } );
		assert.equal( window.localStorage.getItem( KEY ), null );
		assert.deepEqual( time.jobs, [] );
	}
} );

test( 'a request answered 404, 405, 401 or 403 as a whole (a service older than the gadget, a proxy) keeps its decisions', async () => {
	for ( const code of [ 404, 405, 401, 403 ] ) {
		const time = fakeTime();
		const fetch = service();
		fetch.decide = () => ( { status: code, body: { error: { code: 'not_found' } } } );
		await loadGadget( { text: PAGE, fetch, outbox: time.methods } );
		skip( items()[ 0 ] );
		await settle();
		assert.deepEqual( status( items()[ 0 ] ), { text: RETRYING, error: true }, String( code ) );
		assert.equal( JSON.parse( window.localStorage.getItem( KEY ) ).length, 1 );
		assert.equal( time.jobs.length, 1, 'a retry is due' );
		mw.libs.wikiSuggest.outbox.stop();
		window.localStorage.removeItem( KEY );
	}
} );

test( 'after a save whose accepted decision is still waiting (the service down), the edit report waits too', async () => {
	const { time, fetch: down } = await editPage( () => ( { status: 503, body: { error: { code: 'database_unavailable' } } } ) );
	items()[ 0 ].querySelector( '.wiki-suggest-add' ).click();
	await settle();
	submitWith( 'wpSave' );
	const saved = { wgAction: 'view', wgPostEdit: 'saved', wgCurRevisionId: 101, wgRevisionId: 101 };

	// Still down: the decision stays in the outbox, and the service refuses to link it (409).
	const still = service();
	still.decide = down.decide;
	still.edits = () => ( { status: 409, body: { error: { code: 'not_accepted' } } } );
	assert.equal( await loadGadget( { html: VIEW_PAGE, fetch: still, keepStorage: true, keepOutbox: true,
		outbox: time.methods, config: saved } ), false );
	assert.deepEqual( still.calls.map( ( call ) => call.path ), [ '/api/v1/decisions/batch', '/api/v1/edits' ] );
	mw.libs.wikiSuggest.outbox.stop();

	// Back: the next view of the page sends the decision, then the report.
	const back = service();
	assert.equal( await loadGadget( { html: VIEW_PAGE, fetch: back, keepStorage: true, keepOutbox: true,
		outbox: time.methods, config: { wgAction: 'view', wgCurRevisionId: 101 } } ), true );
	assert.deepEqual( back.calls.map( ( call ) => call.path ), [ '/api/v1/decisions/batch', '/api/v1/edits' ] );
	assert.deepEqual( back.calls[ 1 ].body, { suggestion_ids: [ 's1' ], revid: 101, user: 'Example' } );
	assert.equal( window.localStorage.getItem( KEY ), null );
} );

test( 'entries older than 7 days are dropped, and so is what is not a decision', async () => {
	const time = fakeTime();
	window.localStorage.setItem( KEY, JSON.stringify( [
		entry( 'old', { ts: time.now - 7 * DAY - 1 } ),
		entry( 'week', { ts: time.now - 7 * DAY + 60000 } ),
		entry( 'bad1', { body: { suggestion_id: 'bad1', decision: 'maybe' } } ),
		entry( 'bad2', { body: { suggestion_id: 'bad2', decision: 'reject' } } ),
		entry( 'bad3', { backend: 'javascript:alert(1)' } ),
		'junk'
	] ) );
	const fetch = service();
	fetch.decide = () => DOWN;
	await view( fetch, time );
	await settle();
	assert.deepEqual( batches( fetch ), [ [ { suggestion_id: 'week', decision: 'skip' } ] ] );
	assert.deepEqual( stored().map( ( e ) => e.id ), [ 'e-week' ], 'the old and the broken are gone from storage' );
	// A minute later that one is over a week old too.
	time.now += 120000;
	await time.runNext();
	assert.equal( batches( fetch ).length, 1 );
	assert.equal( window.localStorage.getItem( KEY ), null );

	window.localStorage.setItem( KEY, 'not json' );
	await view( service(), time );
	assert.equal( window.localStorage.getItem( KEY ), null );
} );

test( 'pagehide sends what waits once with keepalive; the entries stay until a later answer', async () => {
	const { time, fetch } = await editPage( () => DOWN );
	skip( items()[ 0 ] );
	await settle();
	reject( items()[ 1 ], 'too_specific' );
	await settle();
	assert.equal( batches( fetch ).length, 1 );

	window.dispatchEvent( new window.Event( 'pagehide' ) );
	const call = fetch.calls[ fetch.calls.length - 1 ];
	assert.equal( call.keepalive, true );
	assert.equal( call.path, '/api/v1/decisions/batch' );
	assert.deepEqual( call.body, { user: 'Example', decisions: [
		{ suggestion_id: 's1', decision: 'skip' }, { suggestion_id: 's2', decision: 'reject', reason: 'too_specific' }
	] } );
	assert.equal( call.headers[ 'Content-Type' ], 'application/json' );
	assert.match( call.headers[ 'Api-User-Agent' ], /^wiki-suggest-gadget\// );
	assert.equal( call.credentials, 'omit' );
	await settle();
	assert.deepEqual( stored().map( ( e ) => [ e.body.suggestion_id, e.tries ] ), [ [ 's1', 2 ], [ 's2', 1 ] ],
		'kept whatever the answer, the attempt counted' );

	// The next page: the keepalive request had stored them, so 409s, which are not news.
	const next = service();
	next.decide = ( call2 ) => batchAnswer( call2.body, () => 409 );
	await view( next, time );
	await settle();
	assert.equal( batches( next ).length, 1 );
	assert.equal( window.localStorage.getItem( KEY ), null );
} );

test( 'pagehide sends nothing while a request is in flight, or when nothing waits', async () => {
	const time = fakeTime();
	const fetch = service();
	const open = fetch.hold();
	await loadGadget( { text: PAGE, fetch, outbox: time.methods } );
	skip( items()[ 0 ] );
	skip( items()[ 1 ] );
	window.dispatchEvent( new window.Event( 'pagehide' ) );
	assert.equal( batches( fetch ).length, 1 );
	open();
	await settle();
	assert.equal( window.localStorage.getItem( KEY ), null );
	const before = fetch.calls.length;
	window.dispatchEvent( new window.Event( 'pagehide' ) );
	assert.equal( fetch.calls.length, before );
} );

test( 'entries another tab is sending are left alone for 30 s', async () => {
	const time = fakeTime();
	window.localStorage.setItem( KEY, JSON.stringify( [
		entry( 'mine' ),
		entry( 'theirs', { tries: 1, claim: { tab: 'other-tab', ts: time.now - 10000 } } ),
		entry( 'stale', { tries: 1, claim: { tab: 'closed-tab', ts: time.now - 31000 } } )
	] ) );
	const fetch = service();
	await view( fetch, time );
	await settle();
	assert.deepEqual( batches( fetch ).map( ( batch ) => batch.map( ( d ) => d.suggestion_id ) ), [ [ 'mine', 'stale' ] ] );
	assert.deepEqual( stored().map( ( e ) => e.id ), [ 'e-theirs' ] );
	// That tab did not finish (it was closed): a look again once its claim has run out.
	assert.deepEqual( time.delays(), [ 20100 ] );
	await time.runNext();
	assert.deepEqual( batches( fetch ).map( ( batch ) => batch.map( ( d ) => d.suggestion_id ) ), [ [ 'mine', 'stale' ], [ 'theirs' ] ] );
	assert.equal( window.localStorage.getItem( KEY ), null );
} );

test( 'an entry another tab removed meanwhile is written back by the page that made it', async () => {
	const { time, fetch } = await editPage( () => DOWN );
	skip( items()[ 0 ] );
	await settle();
	// Another tab wrote the key from what it had read before this decision.
	window.localStorage.setItem( KEY, JSON.stringify( [ entry( 'other' ) ] ) );
	fetch.decide = ( call ) => batchAnswer( call.body );
	await time.runNext();
	assert.deepEqual( batches( fetch )[ 1 ].map( ( d ) => d.suggestion_id ), [ 'other', 's1' ] );
	assert.equal( window.localStorage.getItem( KEY ), null );
	assert.deepEqual( status( items()[ 0 ] ), { text: 'Skipped.', error: false } );
} );

test( 'after a save the accepted decision is sent before the edit is reported', async () => {
	const { time } = await editPage( () => new Error( 'Failed to fetch' ) );
	items()[ 0 ].querySelector( '.wiki-suggest-add' ).click();
	await settle();
	assert.deepEqual( status( items()[ 0 ] ), { text: RETRYING, error: true } );
	submitWith( 'wpSave' );

	const fetch = service();
	const sent = await loadGadget( {
		html: VIEW_PAGE, fetch, keepStorage: true, outbox: time.methods,
		config: { wgAction: 'view', wgPostEdit: 'saved', wgCurRevisionId: 101, wgRevisionId: 101 }
	} );
	assert.equal( sent, true );
	assert.deepEqual( fetch.calls.map( ( call ) => call.path ), [ '/api/v1/decisions/batch', '/api/v1/edits' ] );
	assert.deepEqual( fetch.calls[ 0 ].body.decisions, [ { suggestion_id: 's1', decision: 'accept' } ] );
	assert.deepEqual( fetch.calls[ 1 ].body, { suggestion_ids: [ 's1' ], revid: 101, user: 'Example' } );
	assert.equal( window.localStorage.getItem( KEY ), null );
} );

test( 'a decision carried over a preview that is still waiting says so, and its status comes back once stored', async () => {
	const { time, fetch } = await editPage( () => DOWN );
	reject( items()[ 1 ], 'wrong_topic' );
	await settle();
	submitWith( 'wpPreview' );

	await loadGadget( { text: PAGE, fetch, keepStorage: true, outbox: time.methods, config: { wgAction: 'submit' } } );
	await settle();
	const carried = items().find( ( item ) => item.dataset.id === 's2' );
	assert.equal( carried.dataset.state, 'rejected' );
	assert.deepEqual( status( carried ), { text: RETRYING, error: true } );
	fetch.decide = ( call ) => batchAnswer( call.body );
	await time.runNext();
	assert.deepEqual( status( carried ), { text: 'Rejected. Thank you.', error: false } );
	assert.equal( batches( fetch ).flat().filter( ( d ) => d.suggestion_id === 's2' ).length, 3, 'sent on each page and the retry' );
	assert.equal( window.localStorage.getItem( KEY ), null );
} );

test( 'the browser coming back online sends at once', async () => {
	const { time, fetch } = await editPage( () => new Error( 'Failed to fetch' ) );
	skip( items()[ 0 ] );
	await settle();
	assert.deepEqual( time.delays(), [ 2000 ] );
	fetch.decide = ( call ) => batchAnswer( call.body );
	window.dispatchEvent( new window.Event( 'online' ) );
	await settle();
	assert.equal( batches( fetch ).length, 2 );
	assert.deepEqual( time.jobs, [] );
	assert.deepEqual( status( items()[ 0 ] ), { text: 'Skipped.', error: false } );
} );

test( 'without localStorage the decisions are kept for as long as the page', async () => {
	const time = fakeTime();
	const fetch = service();
	fetch.decide = () => DOWN;
	mw.storage.get = () => false;
	mw.storage.set = () => false;
	try {
		await loadGadget( { text: PAGE, fetch, outbox: time.methods } );
		skip( items()[ 0 ] );
		await settle();
		fetch.decide = ( call ) => batchAnswer( call.body );
		await time.runNext();
		assert.deepEqual( batches( fetch ).map( ( batch ) => batch.map( ( d ) => d.suggestion_id ) ), [ [ 's1' ], [ 's1' ] ] );
		assert.deepEqual( status( items()[ 0 ] ), { text: 'Skipped.', error: false } );
	} finally {
		delete mw.storage.get;
		delete mw.storage.set;
	}
} );

test( 'an Outbox of its own: storage, clock and timer as options; what the service would refuse is not kept', async () => {
	await loadGadget( { html: '', config: { wgAction: 'history' } } );
	const time = fakeTime();
	const kept = new Map();
	const storage = {
		get: ( key ) => ( kept.has( key ) ? kept.get( key ) : null ),
		set: ( key, value ) => kept.set( key, value ) && true,
		remove: ( key ) => kept.delete( key ) || true
	};
	const fetch = service();
	window.fetch = fetch;
	const outbox = new mw.libs.wikiSuggest.Outbox( Object.assign( { storage }, time.methods ) );
	const heard = [];
	const warn = mw.log.warn;
	mw.log.warn = () => {};
	try {
		await outbox.add( { suggestion_id: 's1', decision: 'reject' }, 'Example', BACKEND, ( outcome ) => heard.push( outcome ) );
	} finally {
		mw.log.warn = warn;
	}
	assert.deepEqual( heard, [ 'failed' ], 'a rejection without a reason' );
	assert.equal( fetch.calls.length, 0 );
	assert.equal( kept.size, 0 );

	fetch.decide = () => DOWN;
	outbox.add( { suggestion_id: 's2', decision: 'accept', user: 'Sneaky', extra: 1 }, '', BACKEND, ( outcome ) => heard.push( outcome ) );
	await settle();
	assert.deepEqual( fetch.calls[ 0 ].body, { decisions: [ { suggestion_id: 's2', decision: 'accept' } ] },
		'only the known fields, and no user when there is none' );
	assert.deepEqual( JSON.parse( kept.get( KEY ) ).map( ( e ) => [ e.user, e.ts ] ), [ [ null, time.now ] ] );
	assert.deepEqual( heard, [ 'failed', 'retrying' ] );
	fetch.decide = ( call ) => batchAnswer( call.body );
	await time.runNext();
	assert.deepEqual( heard, [ 'failed', 'retrying', 'stored' ] );
	assert.equal( kept.size, 0 );
	outbox.stop();
} );

test( 'a decision the service failed on (a 500 in a 200) is sent again with the backoff doubling, not every 2 s', async () => {
	const { time, fetch } = await editPage( ( call ) => batchAnswer( call.body, ( d ) => ( d.suggestion_id === 's1' ? 500 : 201 ) ) );
	const [ first, second ] = items();
	skip( first );
	await settle();
	assert.deepEqual( status( first ), { text: RETRYING, error: true } );
	assert.deepEqual( time.delays(), [ 2000 ] );
	skip( second );
	await settle();
	assert.equal( await time.runNext(), 2000 );
	assert.deepEqual( batches( fetch )[ 1 ].map( ( d ) => d.suggestion_id ), [ 's1', 's2' ] );
	assert.deepEqual( status( second ), { text: 'Skipped.', error: false } );
	assert.deepEqual( time.delays(), [ 4000 ], 'the other one stored does not reset the backoff' );
	assert.equal( await time.runNext(), 4000 );
	assert.deepEqual( time.delays(), [ 8000 ] );

	fetch.decide = ( call ) => batchAnswer( call.body );
	await time.runNext();
	assert.deepEqual( status( first ), { text: 'Skipped.', error: false } );
	assert.equal( window.localStorage.getItem( KEY ), null );
	assert.deepEqual( time.jobs, [] );
} );

test( 'results that do not match the decisions sent (another order) are no answer: nothing is dropped', async () => {
	const time = fakeTime();
	window.localStorage.setItem( KEY, JSON.stringify( [ entry( 's1' ), entry( 's2' ) ] ) );
	const fetch = service();
	fetch.decide = ( call ) => {
		const answer = batchAnswer( call.body, ( d ) => ( d.suggestion_id === 's1' ? 500 : 201 ) );
		answer.body.results.reverse();
		return answer;
	};
	await view( fetch, time );
	await settle();
	assert.deepEqual( stored().map( ( e ) => e.id ), [ 'e-s1', 'e-s2' ], 's1 was not stored: it stays' );
	assert.deepEqual( time.delays(), [ 2000 ] );
	fetch.decide = ( call ) => batchAnswer( call.body );
	await time.runNext();
	assert.equal( window.localStorage.getItem( KEY ), null );
} );

test( 'decisions for a service that does not answer do not hold back those for another', async () => {
	const time = fakeTime();
	const DEAD = 'http://127.0.0.1:8000';
	window.localStorage.setItem( KEY, JSON.stringify( [
		entry( 'dead', { backend: DEAD } ), entry( 'p1' ), entry( 'p2' )
	] ) );
	const fetch = service();
	fetch.decide = ( call ) => ( call.url.startsWith( DEAD ) ? new Error( 'Failed to fetch' ) : batchAnswer( call.body ) );
	await view( fetch, time );
	await settle();
	await time.runNext();
	const sent = fetch.calls.map( ( call ) => [ call.url.startsWith( DEAD ) ? 'dead' : 'live', call.body.decisions.map( ( d ) => d.suggestion_id ) ] );
	assert.deepEqual( sent.filter( ( [ where ] ) => where === 'live' ), [ [ 'live', [ 'p1', 'p2' ] ] ], JSON.stringify( sent ) );
	assert.deepEqual( stored().map( ( e ) => e.id ), [ 'e-dead' ], 'it is still sent again' );
	assert.equal( time.jobs.length, 1 );
} );

test( 'a comment that is not valid text does not cost the other decisions of its request', async () => {
	const time = fakeTime();
	// As the service: a lone surrogate anywhere refuses the whole request (400 invalid_body).
	const lone = ( text ) => /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/.test( text );
	const fetch = service();
	fetch.decide = ( call ) => ( call.body.decisions.some( ( d ) => d.comment && lone( d.comment ) ) ?
		{ status: 400, body: { error: { code: 'invalid_body', message: 'text must be valid Unicode' } } } :
		batchAnswer( call.body ) );
	window.localStorage.setItem( KEY, JSON.stringify( [
		entry( 'good1' ),
		entry( 'bad', { body: { suggestion_id: 'bad', decision: 'reject', reason: 'other', comment: 'ab\uD83D' } } ),
		entry( 'good2' )
	] ) );
	await view( fetch, time );
	await settle();
	assert.deepEqual( batches( fetch ).map( ( batch ) => batch.map( ( d ) => d.suggestion_id ) ), [ [ 'good1', 'good2' ] ] );
	assert.equal( window.localStorage.getItem( KEY ), null );

	// A long comment is cut between characters, not between the two halves of one.
	await loadGadget( { text: PAGE, fetch, outbox: time.methods } );
	const item = items()[ 0 ];
	item.querySelector( '.wiki-suggest-comment' ).value = 'x' + '\uD83D\uDE00'.repeat( 250 );
	reject( item, 'other' );
	await settle();
	assert.equal( batches( fetch )[ 1 ][ 0 ].comment, 'x' + '\uD83D\uDE00'.repeat( 249 ) );
	assert.deepEqual( status( item ), { text: 'Rejected. Thank you.', error: false } );
} );

test( 'control characters in a comment are sent as spaces, not refused with the rest of the request', async () => {
	const time = fakeTime();
	// As the service: a comment with a control character other than tab and line breaks refuses
	// the whole request (400 invalid_body).
	const control = ( text ) => [ ...text ].some( ( ch ) => ( ch < ' ' && !'\t\n\r'.includes( ch ) ) || ch === '\u007f' );
	const fetch = service();
	fetch.decide = ( call ) => ( call.body.decisions.some( ( d ) => d.comment && control( d.comment ) ) ?
		{ status: 400, body: { error: { code: 'invalid_body', message: 'not a valid comment' } } } :
		batchAnswer( call.body ) );
	window.localStorage.setItem( KEY, JSON.stringify( [
		entry( 'good1' ),
		entry( 'pasted', { body: { suggestion_id: 'pasted', decision: 'reject', reason: 'other', comment: 'a\u0000b\u0007c\u007fd\te' } } )
	] ) );
	await view( fetch, time );
	await settle();
	assert.deepEqual( batches( fetch ).map( ( batch ) => batch.map( ( d ) => [ d.suggestion_id, d.comment ] ) ),
		[ [ [ 'good1', undefined ], [ 'pasted', 'a b c d\te' ] ] ] );
	assert.equal( window.localStorage.getItem( KEY ), null, 'both were stored' );
} );

test( 'a request still in flight when the page goes is not left claimed: the next page sends it at once', async () => {
	const time = fakeTime();
	const fetch = service();
	const open = fetch.hold();
	await loadGadget( { text: PAGE, fetch, outbox: time.methods } );
	items()[ 0 ].querySelector( '.wiki-suggest-add' ).click();
	await settle();
	submitWith( 'wpSave' );
	// The browser ends the request with the page.
	window.dispatchEvent( new window.Event( 'pagehide' ) );

	const next = service();
	const sent = await loadGadget( {
		html: VIEW_PAGE, fetch: next, keepStorage: true, outbox: time.methods,
		config: { wgAction: 'view', wgPostEdit: 'saved', wgCurRevisionId: 101, wgRevisionId: 101 }
	} );
	assert.equal( sent, true );
	assert.deepEqual( next.calls.map( ( call ) => call.path ), [ '/api/v1/decisions/batch', '/api/v1/edits' ],
		'the decision is stored before the edit is reported' );
	assert.equal( window.localStorage.getItem( KEY ), null );
	open();
	await settle();
} );

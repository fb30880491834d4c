/**
 * The optional account confirmation: the panel's "Confirm your account" popup, the ticket it
 * posts back, and the ticket sent with the decisions (and dropped when the service refuses it).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
'use strict';

const { test, afterEach } = require( 'node:test' );
const assert = require( 'node:assert/strict' );
const {
	loadGadget, fakeFetch, batchAnswer, batches, suggestionsResponse, category, settle, items, VIEW_PAGE
} = require( './helpers' );

const PAGE = 'Albedo.\n\n[[Category:Optics]]\n';
const TICKET_KEY = 'wiki-suggest-ticket';
const OUTBOX_KEY = 'wiki-suggest-outbox';
const BACKEND = 'https://wiki-suggest.toolforge.org';
const HOUR = 60 * 60;

/**
 * @param {number} hours
 * @return {number} Seconds since the epoch, that many hours from now
 */
function inHours( hours ) {
	return Math.floor( Date.now() / 1000 ) + hours * HOUR;
}

function tickets() {
	return JSON.parse( window.localStorage.getItem( TICKET_KEY ) || 'null' );
}

function setTickets( value ) {
	window.localStorage.setItem( TICKET_KEY, JSON.stringify( value ) );
}

/**
 * A service with suggestions s1, s2; `fetch.decide( call )` answers a batch (default: all stored).
 *
 * @return {Function} fetch
 */
function service() {
	const fetch = fakeFetch( ( call ) => {
		if ( call.path.endsWith( '/api/v1/suggestions' ) ) {
			return { status: 200, body: suggestionsResponse( [ category( 's1', 'Topic s1' ), category( 's2', 'Topic s2' ) ] ) };
		}
		return fetch.decide( call );
	} );
	fetch.decide = ( call ) => batchAnswer( call.body );
	return fetch;
}

const INVALID_TICKET = { status: 400, body: { error: { code: 'invalid_ticket', message: 'The ticket is not valid for this user.' } } };

function account() {
	return document.querySelector( '#wiki-suggest-panel .wiki-suggest-account' );
}

function statusText( item ) {
	return item.querySelector( '.wiki-suggest-item-status' ).textContent;
}

/**
 * A message as the confirmation popup posts it.
 *
 * @param {string} origin
 * @param {*} data
 */
function post( origin, data ) {
	window.dispatchEvent( new window.MessageEvent( 'message', { origin, data } ) );
}

const opened = [];
const open = window.open;
window.open = ( ...args ) => {
	opened.push( args );
	return {};
};

let panel = null;

async function editPage( options ) {
	panel = await loadGadget( Object.assign( { text: PAGE, fetch: service() }, options ) );
	return panel;
}

afterEach( () => {
	// No listener of the last page hears the next test's messages.
	if ( panel && panel.onMessage ) {
		window.removeEventListener( 'message', panel.onMessage );
	}
	panel = null;
	opened.length = 0;
	if ( mw.libs.wikiSuggest && mw.libs.wikiSuggest.outbox ) {
		mw.libs.wikiSuggest.outbox.stop();
	}
} );

process.on( 'exit', () => {
	window.open = open;
} );

test( 'a logged-in user without a ticket sees "Confirm your account", which opens the tool\'s page in a popup', async () => {
	await editPage( { settings: { backend: 'http://127.0.0.1:8000/tool/' } } );
	const button = account().querySelector( 'button.wiki-suggest-confirm' );
	assert.equal( button.type, 'button', 'it cannot submit the edit form' );
	assert.equal( button.textContent, 'Confirm your account' );
	const help = document.getElementById( button.getAttribute( 'aria-describedby' ) );
	assert.match( help.textContent, /^Optional: log in to the tool once/ );
	assert.equal( account().querySelector( '.wiki-suggest-confirmed' ), null );
	assert.equal( account().previousElementSibling.className, 'wiki-suggest-body', 'at the foot of the panel' );

	button.click();
	assert.deepEqual( opened, [ [
		`http://127.0.0.1:8000/tool/confirm?origin=${ encodeURIComponent( window.location.origin ) }`,
		'wiki-suggest-confirm',
		'popup,width=600,height=700'
	] ] );
} );

test( 'with a ticket for this user the panel says "Account confirmed" instead; one about to run out does not count', async () => {
	setTickets( { Example: { user: 'Example', ticket: 't-ok', expires: inHours( 2 ) } } );
	await editPage( { keepOutbox: true } );
	assert.equal( account().querySelector( '.wiki-suggest-confirmed' ).textContent, 'Account confirmed' );
	assert.equal( account().querySelector( '.wiki-suggest-confirm' ), null, 'no button' );

	for ( const other of [
		{ Example: { user: 'Example', ticket: 't-late', expires: inHours( 0.5 ) } },
		{ Other: { user: 'Other', ticket: 't-other', expires: inHours( 2 ) } }
	] ) {
		setTickets( other );
		await editPage( { keepOutbox: true } );
		assert.ok( account().querySelector( '.wiki-suggest-confirm' ), JSON.stringify( other ) );
		assert.equal( account().querySelector( '.wiki-suggest-confirmed' ), null );
	}
} );

test( 'anonymous users and a panel with nothing but a pause notice show no account line', async () => {
	await loadGadget( { text: PAGE, config: { wgUserName: null } } );
	const ws = mw.libs.wikiSuggest;
	const rendered = () => {
		const controller = new ws.Panel( ws.readConfig(), ws.createTextareaSurface( $( '#wpTextbox1' ) ), null, null );
		controller.render( [ { task: 'categories', ok: true, status: 200, data: suggestionsResponse( [ category( 's1', 'X' ) ] ) } ], [] );
		assert.equal( controller.$panel.find( '.wiki-suggest-item' ).length, 1 );
		return controller.$panel;
	};
	assert.equal( rendered().find( '.wiki-suggest-account, .wiki-suggest-confirm, .wiki-suggest-confirmed' ).length, 0 );
	mw.config.set( 'wgUserName', 'Example' );
	assert.equal( rendered().find( '.wiki-suggest-account .wiki-suggest-confirm' ).length, 1, 'the same panel for a user' );

	await editPage( { fetch: fakeFetch( () => ( { status: 200, body: suggestionsResponse( [], { pause: { reason: 'too many rejections' } } ) } ) ) } );
	assert.ok( document.querySelector( '.wiki-suggest-paused' ) );
	assert.equal( account(), null );
} );

test( 'a service that cannot log editors in (no OAuth consumer) gets no account line', async () => {
	const body = suggestionsResponse( [ category( 's1', 'Topic s1' ) ] );
	body.meta.account_confirmation = false;
	await editPage( { fetch: fakeFetch( () => ( { status: 200, body } ) ) } );
	assert.equal( items().length, 1 );
	assert.equal( account(), null );
	assert.equal( document.querySelector( '.wiki-suggest-confirm' ), null );
} );

test( 'the popup\'s ticket is stored for this user, as MediaWiki spells the name, and the panel says so', async () => {
	await editPage( { config: { wgUserName: 'Editor Ukr' }, settings: { backend: 'http://127.0.0.1:8000/tool' } } );
	const expires = inHours( 24 );
	const good = { type: 'wiki-suggest-ticket', user: 'editor_Ukr', ticket: 't-1', expires };
	// Nothing listens before the button is clicked.
	post( 'http://127.0.0.1:8000', good );
	assert.equal( tickets(), null );

	account().querySelector( '.wiki-suggest-confirm' ).click();
	for ( const [ origin, data ] of [
		[ 'https://evil.example', good ],
		[ 'http://127.0.0.1:8001', good ],
		[ window.location.origin, good ],
		[ 'http://127.0.0.1:8000', JSON.stringify( good ) ],
		[ 'http://127.0.0.1:8000', null ],
		[ 'http://127.0.0.1:8000', Object.assign( {}, good, { type: 'other' } ) ],
		[ 'http://127.0.0.1:8000', Object.assign( {}, good, { ticket: 42 } ) ],
		[ 'http://127.0.0.1:8000', Object.assign( {}, good, { ticket: '' } ) ],
		[ 'http://127.0.0.1:8000', Object.assign( {}, good, { expires: String( expires ) } ) ],
		[ 'http://127.0.0.1:8000', Object.assign( {}, good, { user: undefined } ) ]
	] ) {
		post( origin, data );
		assert.equal( tickets(), null, `${ origin } ${ JSON.stringify( data ) }` );
	}
	assert.ok( account().querySelector( '.wiki-suggest-confirm' ) );
	assert.equal( account().querySelector( '.wiki-suggest-account-status' ).textContent, '' );

	post( 'http://127.0.0.1:8000', good );
	assert.deepEqual( tickets(), { 'Editor Ukr': { user: 'editor_Ukr', ticket: 't-1', expires } } );
	assert.equal( account().querySelector( '.wiki-suggest-confirm' ), null );
	assert.equal( account().querySelector( '.wiki-suggest-confirmed' ).textContent, 'Account confirmed' );
} );

test( 'a ticket for another account is not stored, and the panel says which account the tool confirmed', async () => {
	setTickets( { Someone: { user: 'Someone', ticket: 't-s', expires: inHours( 5 ) } } );
	await editPage( { keepOutbox: true } );
	account().querySelector( '.wiki-suggest-confirm' ).click();
	post( BACKEND, { type: 'wiki-suggest-ticket', user: 'Someone', ticket: 't-2', expires: inHours( 24 ) } );
	assert.deepEqual( tickets(), { Someone: { user: 'Someone', ticket: 't-s', expires: tickets().Someone.expires } }, 'unchanged' );
	const status = account().querySelector( '.wiki-suggest-account-status' );
	assert.match( status.textContent, /^The tool confirmed another account \(Someone\)/ );
	assert.ok( status.classList.contains( 'wiki-suggest-item-error' ) );
	assert.ok( account().querySelector( '.wiki-suggest-confirm' ), 'the button is still there' );

	// Confirmed with the right account after all: stored beside the other user's ticket.
	post( BACKEND, { type: 'wiki-suggest-ticket', user: 'Example', ticket: 't-3', expires: inHours( 24 ) } );
	assert.deepEqual( Object.keys( tickets() ).sort(), [ 'Example', 'Someone' ] );
	assert.equal( status.textContent, 'Account confirmed' );
	assert.ok( !status.classList.contains( 'wiki-suggest-item-error' ) );
} );

test( 'the decisions carry the ticket of their user, read when they are sent, and not one about to run out', async () => {
	const fetch = service();
	await editPage( { fetch } );
	const [ first, second ] = items();
	first.querySelector( '.wiki-suggest-skip' ).click();
	await settle();
	assert.equal( fetch.calls[ fetch.calls.length - 1 ].body.ticket, undefined, 'no ticket yet' );

	setTickets( {
		Example: { user: 'Example', ticket: 't-ex', expires: inHours( 2 ) },
		Other: { user: 'Other', ticket: 't-other', expires: inHours( 2 ) }
	} );
	second.querySelector( '.wiki-suggest-skip' ).click();
	await settle();
	assert.deepEqual( fetch.calls[ fetch.calls.length - 1 ].body, {
		user: 'Example', ticket: 't-ex', decisions: [ { suggestion_id: 's2', decision: 'skip' } ]
	} );

	// Waiting entries of three users, from an earlier page: a ticket is not kept in them.
	const entry = ( id, user ) => ( {
		id: `e-${ id }`, body: { suggestion_id: id, decision: 'skip' }, user, backend: BACKEND, ts: Date.now() - 1000, tries: 0
	} );
	window.localStorage.setItem( OUTBOX_KEY, JSON.stringify( [
		entry( 'a1', 'Example' ), entry( 'b1', 'Late' ), entry( 'a2', 'Example' ), entry( 'c1', 'Nobody' ), entry( 'n1', null )
	] ) );
	setTickets( {
		Example: { user: 'Example', ticket: 't-ex2', expires: inHours( 2 ) },
		Late: { user: 'Late', ticket: 't-late', expires: inHours( 0.9 ) },
		Other: { user: 'Other', ticket: 't-other', expires: inHours( 2 ) }
	} );
	const later = service();
	await loadGadget( { html: VIEW_PAGE, fetch: later, keepOutbox: true, config: { wgAction: 'view' } } );
	await settle();
	assert.deepEqual( later.calls.map( ( call ) => call.body ), [
		{ user: 'Example', ticket: 't-ex2', decisions: [ { suggestion_id: 'a1', decision: 'skip' }, { suggestion_id: 'a2', decision: 'skip' } ] },
		{ user: 'Late', decisions: [ { suggestion_id: 'b1', decision: 'skip' } ] },
		{ user: 'Nobody', decisions: [ { suggestion_id: 'c1', decision: 'skip' } ] },
		{ decisions: [ { suggestion_id: 'n1', decision: 'skip' } ] }
	] );
	assert.equal( window.localStorage.getItem( OUTBOX_KEY ), null );
} );

test( 'a ticket the service refuses (400 invalid_ticket) is dropped, and the same decisions are sent again without it and stored', async () => {
	const fetch = service();
	fetch.decide = ( call ) => ( call.body.ticket ? INVALID_TICKET : batchAnswer( call.body ) );
	await editPage( { fetch } );
	setTickets( {
		Example: { user: 'Example', ticket: 't-forged', expires: inHours( 2 ) },
		Other: { user: 'Other', ticket: 't-other', expires: inHours( 2 ) }
	} );
	// The panel learns of the ticket from the popup; here it was stored by another tab.
	panel.showAccount();
	assert.ok( account().querySelector( '.wiki-suggest-confirmed' ) );

	const [ first ] = items();
	first.querySelector( '.wiki-suggest-reject' ).click();
	first.querySelector( '.wiki-suggest-reason[data-reason="too_general"]' ).click();
	await settle();
	const sent = fetch.calls.filter( ( call ) => call.path === '/api/v1/decisions/batch' );
	const decisions = [ { suggestion_id: 's1', decision: 'reject', reason: 'too_general' } ];
	assert.deepEqual( sent.map( ( call ) => call.body ), [
		{ user: 'Example', ticket: 't-forged', decisions },
		{ user: 'Example', decisions }
	] );
	assert.equal( statusText( first ), 'Rejected. Thank you.', 'stored, not lost' );
	assert.equal( window.localStorage.getItem( OUTBOX_KEY ), null );
	assert.deepEqual( Object.keys( tickets() ), [ 'Other' ], 'only the refused ticket is gone' );
	assert.ok( account().querySelector( '.wiki-suggest-confirm' ), 'the panel offers the confirmation again' );
	assert.equal( account().querySelector( '.wiki-suggest-confirmed' ), null );
} );

test( 'another 400 of a request with a ticket is still final, and the ticket stays', async () => {
	const fetch = service();
	fetch.decide = () => ( { status: 400, body: { error: { code: 'invalid_body', message: 'no' } } } );
	await editPage( { fetch } );
	setTickets( { Example: { user: 'Example', ticket: 't-ok', expires: inHours( 2 ) } } );
	const [ first ] = items();
	first.querySelector( '.wiki-suggest-skip' ).click();
	await settle();
	assert.equal( batches( fetch ).length, 1 );
	assert.equal( fetch.calls[ fetch.calls.length - 1 ].body.ticket, 't-ok' );
	assert.equal( statusText( first ), 'Your choice could not be sent to the tool.' );
	assert.equal( tickets().Example.ticket, 't-ok' );
} );

test( 'the keepalive request as the page goes carries the ticket too', async () => {
	const fetch = service();
	fetch.decide = () => ( { status: 503, body: { error: { code: 'database_unavailable' } } } );
	await editPage( { fetch } );
	items()[ 0 ].querySelector( '.wiki-suggest-skip' ).click();
	await settle();
	setTickets( { Example: { user: 'Example', ticket: 't-ok', expires: inHours( 2 ) } } );
	window.dispatchEvent( new window.Event( 'pagehide' ) );
	const last = fetch.calls[ fetch.calls.length - 1 ];
	assert.equal( last.keepalive, true );
	assert.equal( last.body.ticket, 't-ok' );
} );

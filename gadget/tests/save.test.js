/**
 * Across the save: the summary marker, the accepted ids carried in sessionStorage, and the
 * report of the new revision on the page view after the save.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
'use strict';

const { test } = require( 'node:test' );
const assert = require( 'node:assert/strict' );
const {
	loadGadget, fakeService, fakeFetch, suggestionsResponse, category, settle, textbox, items,
	submitWith, VIEW_PAGE
} = require( './helpers' );

const PAGE = 'Albedo.\n\n[[Category:Optics]]\n';
const STORAGE_KEY = 'wikiSuggest-pending';
const MARKER = '(suggested by [[toolforge:wiki-suggest|wiki-suggest]])';

function service() {
	return fakeService( {
		categories: suggestionsResponse( [ category( 's1', 'Climate forcing' ), category( 's2', 'Radiometry' ), category( 's3', 'Snow' ) ] )
	} );
}

function stored() {
	return JSON.parse( window.sessionStorage.getItem( STORAGE_KEY ) );
}

async function editAndAccept( summary ) {
	await loadGadget( { text: PAGE, fetch: service() } );
	document.getElementById( 'wpSummary' ).value = summary;
	const [ first, second, third ] = items();
	first.querySelector( '.wiki-suggest-add' ).click();
	third.querySelector( '.wiki-suggest-add' ).click();
	second.querySelector( '.wiki-suggest-skip' ).click();
	await settle();
}

test( 'saving appends the marker to the summary and carries the accepted ids', async () => {
	await editAndAccept( 'copyedit' );
	submitWith( 'wpSave' );
	assert.equal(
		document.getElementById( 'wpSummary' ).value,
		`copyedit +[[Category:Climate forcing]], +[[Category:Snow]] ${ MARKER }`
	);
	const record = stored();
	assert.deepEqual( record.items.map( ( item ) => item.suggestion.id ), [ 's1', 's3' ] );
	assert.equal( record.saved, true );
	assert.equal( record.wiki, 'enwiki' );
	assert.equal( record.page, 'Albedo' );
	assert.equal( record.baseRevid, 100 );
} );

test( 'an addition deleted by hand before saving is neither in the summary nor reported with the edit', async () => {
	await editAndAccept( 'copyedit' );
	textbox().value = textbox().value.replace( '[[Category:Snow]]', '' );
	submitWith( 'wpSave' );
	assert.equal( document.getElementById( 'wpSummary' ).value, `copyedit +[[Category:Climate forcing]] ${ MARKER }` );
	assert.deepEqual( stored().items.map( ( item ) => item.suggestion.id ), [ 's1' ] );
} );

test( 'an empty summary gets just the marker; nothing accepted means no marker and no record', async () => {
	await editAndAccept( '' );
	submitWith( 'wpSave' );
	assert.equal( document.getElementById( 'wpSummary' ).value, `+[[Category:Climate forcing]], +[[Category:Snow]] ${ MARKER }` );

	await loadGadget( { text: PAGE, fetch: service() } );
	window.sessionStorage.setItem( STORAGE_KEY, JSON.stringify( { stale: true } ) );
	document.getElementById( 'wpSummary' ).value = 'typo';
	items()[ 0 ].querySelector( '.wiki-suggest-add' ).click();
	items()[ 0 ].querySelector( '.wiki-suggest-undo' ).click();
	submitWith( 'wpSave' );
	assert.equal( document.getElementById( 'wpSummary' ).value, 'typo' );
	assert.equal( window.sessionStorage.getItem( STORAGE_KEY ), null );
} );

test( 'the summary marker is configurable, and too long a list is left out', async () => {
	const ws = mw.libs.wikiSuggest;
	const config = { summaryMarker: '$1 #wiki-suggest', summaryReference: '+ref' };
	const suggestions = [ category( 'a', 'X' ), { wikitext: '<ref>Y</ref>', insert: { kind: 'reference' } } ];
	assert.equal( ws.summaryMarker( config, suggestions ), '+[[Category:X]], +ref #wiki-suggest' );
	const long = ws.appendMarker( 'x'.repeat( 480 ), '+[[Category:A long name]] (suggested)', '(suggested)' );
	assert.equal( long, 'x'.repeat( 480 ) + ' (suggested)' );
	// Not twice, e.g. when a failed save shows the form again.
	assert.equal( ws.appendMarker( 'fix +[[Category:X]] (suggested)', '+[[Category:X]] (suggested)', '(suggested)' ), 'fix +[[Category:X]] (suggested)' );

	await loadGadget( { text: PAGE, fetch: service(), settings: { summaryMarker: '$1 via wiki-suggest' } } );
	items()[ 1 ].querySelector( '.wiki-suggest-add' ).click();
	submitWith( 'wpSave' );
	assert.equal( document.getElementById( 'wpSummary' ).value, '+[[Category:Radiometry]] via wiki-suggest' );
} );

test( 'preview keeps the summary, and the accepted suggestions come back after it', async () => {
	await editAndAccept( 'copyedit' );
	const textAfterAdding = textbox().value;
	submitWith( 'wpPreview' );
	assert.equal( document.getElementById( 'wpSummary' ).value, 'copyedit' );
	assert.equal( stored().saved, false );

	// The preview page: action=submit, the text still holds the insertions.
	const fetch = service();
	await loadGadget( { text: textAfterAdding, fetch, keepStorage: true, config: { wgAction: 'submit' } } );
	const list = items();
	assert.deepEqual( list.map( ( item ) => [ item.dataset.id, item.dataset.state ] ), [
		[ 's1', 'accepted' ], [ 's3', 'accepted' ], [ 's2', 'skipped' ]
	] );
	assert.ok( list[ 2 ].querySelector( '.wiki-suggest-add' ).hidden, 'a skipped one is not offered again' );
	// Undo still works on a carried suggestion.
	list[ 0 ].querySelector( '.wiki-suggest-undo' ).click();
	assert.equal( textbox().value, 'Albedo.\n\n[[Category:Optics]]\n[[Category:Snow]]\n' );
	submitWith( 'wpSave' );
	assert.equal( document.getElementById( 'wpSummary' ).value, `+[[Category:Snow]] ${ MARKER }` );
	assert.deepEqual( stored().items.map( ( item ) => item.suggestion.id ), [ 's3' ] );
	assert.equal( fetch.calls.filter( ( call ) => call.path === '/api/v1/decisions/batch' ).length, 0, 'carried acceptances were already reported' );
} );

test( 'after a failed save, the next save lists what is accepted now, once', async () => {
	await editAndAccept( 'copyedit' );
	const textAfterAdding = textbox().value;
	submitWith( 'wpSave' );
	const sent = document.getElementById( 'wpSummary' ).value;
	assert.equal( sent, `copyedit +[[Category:Climate forcing]], +[[Category:Snow]] ${ MARKER }` );

	// The save failed (an edit conflict, a captcha): the form comes back with text and summary as sent.
	await loadGadget( { text: textAfterAdding, fetch: service(), keepStorage: true, config: { wgAction: 'submit' } } );
	document.getElementById( 'wpSummary' ).value = sent;
	items()[ 0 ].querySelector( '.wiki-suggest-undo' ).click();
	submitWith( 'wpSave' );
	assert.equal( document.getElementById( 'wpSummary' ).value, `copyedit +[[Category:Snow]] ${ MARKER }` );
	assert.deepEqual( stored().items.map( ( item ) => item.suggestion.id ), [ 's3' ] );
} );

test( 'a rejection stays decided after a preview, though the service offers it again under a new id', async () => {
	await loadGadget( { text: PAGE, fetch: service() } );
	const [ first, second ] = items();
	second.querySelector( '.wiki-suggest-reject' ).click();
	second.querySelector( '.wiki-suggest-reason' ).click();
	first.querySelector( '.wiki-suggest-add' ).click();
	await settle();
	const textAfterAdding = textbox().value;
	submitWith( 'wpPreview' );
	assert.deepEqual( stored().decided.map( ( record ) => [ record.suggestion.id, record.state ] ), [ [ 's2', 'rejected' ] ] );

	// Each showing issues new ids (n1, n2, n3) for the same proposals.
	const fetch = fakeService( {
		categories: suggestionsResponse( [ category( 'n1', 'Climate forcing' ), category( 'n2', 'Radiometry' ), category( 'n3', 'Snow' ) ] )
	} );
	await loadGadget( { text: textAfterAdding, fetch, keepStorage: true, config: { wgAction: 'submit' } } );
	const list = items();
	assert.deepEqual( list.map( ( item ) => [ item.dataset.id, item.dataset.state ] ), [
		[ 's1', 'accepted' ], [ 's2', 'rejected' ], [ 'n3', 'pending' ]
	] );
	assert.equal( list[ 1 ].querySelector( '.wiki-suggest-item-status' ).textContent, 'Rejected. Thank you.' );
	assert.ok( list[ 1 ].querySelector( '.wiki-suggest-reject' ).hidden );
	await settle();
	assert.equal( fetch.calls.filter( ( call ) => call.path === '/api/v1/decisions/batch' ).length, 0, 'no second decision' );
} );

test( 'a save with only rejections and skips reports no edit', async () => {
	await loadGadget( { text: PAGE, fetch: service() } );
	items()[ 0 ].querySelector( '.wiki-suggest-skip' ).click();
	await settle();
	submitWith( 'wpSave' );
	assert.equal( document.getElementById( 'wpSummary' ).value, '', 'no marker without an accepted one' );
	const fetch = fakeFetch( () => ( { status: 201, body: {} } ) );
	const sent = await loadGadget( {
		html: VIEW_PAGE, fetch, keepStorage: true,
		config: { wgAction: 'view', wgPostEdit: 'saved', wgCurRevisionId: 101, wgRevisionId: 101 }
	} );
	assert.equal( sent, false );
	assert.equal( fetch.calls.length, 0 );
	assert.equal( window.sessionStorage.getItem( STORAGE_KEY ), null );
} );

test( 'a fresh edit drops a record left from an abandoned edit', async () => {
	await editAndAccept( '' );
	submitWith( 'wpPreview' );
	await loadGadget( { text: PAGE, fetch: service(), keepStorage: true, config: { wgAction: 'edit' } } );
	assert.equal( window.sessionStorage.getItem( STORAGE_KEY ), null );
	assert.ok( items().every( ( item ) => item.dataset.state === 'pending' ) );
} );

test( 'the page view after the save reports the accepted ids with the new revision', async () => {
	await editAndAccept( '' );
	submitWith( 'wpSave' );

	const fetch = fakeFetch( () => ( { status: 201, body: {} } ) );
	const sent = await loadGadget( {
		html: VIEW_PAGE,
		fetch,
		keepStorage: true,
		config: { wgAction: 'view', wgPostEdit: 'saved', wgCurRevisionId: 101, wgRevisionId: 101 }
	} );
	assert.equal( sent, true );
	assert.equal( fetch.calls.length, 1 );
	const call = fetch.calls[ 0 ];
	assert.equal( call.method, 'POST' );
	assert.equal( call.url, 'https://wiki-suggest.toolforge.org/api/v1/edits' );
	assert.equal( call.headers[ 'Content-Type' ], 'application/json' );
	assert.match( call.headers[ 'Api-User-Agent' ], /^wiki-suggest-gadget\// );
	assert.deepEqual( call.body, { suggestion_ids: [ 's1', 's3' ], revid: 101, user: 'Example' } );
	assert.equal( window.sessionStorage.getItem( STORAGE_KEY ), null, 'storage is cleared' );
	assert.equal( document.getElementById( 'wiki-suggest-panel' ), null, 'no panel on views' );

	// A second view reports nothing.
	const again = fakeFetch( () => ( { status: 201, body: {} } ) );
	await loadGadget( { html: VIEW_PAGE, fetch: again, keepStorage: true, config: { wgAction: 'view', wgCurRevisionId: 101 } } );
	assert.equal( again.calls.length, 0 );
} );

test( 'no report without a new revision, for another page, or after a network error', async () => {
	const view = ( config, responder ) => loadGadget( {
		html: VIEW_PAGE, fetch: responder, keepStorage: true, config: Object.assign( { wgAction: 'view' }, config )
	} );

	// Save failed or nothing changed: same revision, no post-edit flag.
	await editAndAccept( '' );
	submitWith( 'wpSave' );
	let fetch = fakeFetch( () => ( { status: 201, body: {} } ) );
	assert.equal( await view( { wgCurRevisionId: 100 }, fetch ), false );
	assert.equal( fetch.calls.length, 0 );
	assert.equal( window.sessionStorage.getItem( STORAGE_KEY ), null );

	// Another page.
	await editAndAccept( '' );
	submitWith( 'wpSave' );
	fetch = fakeFetch( () => ( { status: 201, body: {} } ) );
	assert.equal( await view( { wgPageName: 'Other', wgCurRevisionId: 101, wgPostEdit: 'saved' }, fetch ), false );
	assert.equal( fetch.calls.length, 0 );

	// The record is still there for the right page; a network error keeps it for the next view.
	fetch = fakeFetch( () => new Error( 'offline' ) );
	assert.equal( await view( { wgCurRevisionId: 101, wgPostEdit: 'saved' }, fetch ), false );
	assert.equal( fetch.calls.length, 1 );
	assert.notEqual( window.sessionStorage.getItem( STORAGE_KEY ), null );
	// So does an answer that the service could not take it (503, 429).
	for ( const code of [ 503, 429 ] ) {
		fetch = fakeFetch( () => ( { status: code, body: { error: { code: 'database_unavailable' } } } ) );
		assert.equal( await view( { wgCurRevisionId: 101, wgPostEdit: 'saved' }, fetch ), false );
		assert.equal( fetch.calls.length, 1 );
		assert.notEqual( window.sessionStorage.getItem( STORAGE_KEY ), null, `kept after ${ code }` );
	}
	fetch = fakeFetch( () => ( { status: 201, body: {} } ) );
	assert.equal( await view( { wgCurRevisionId: 101, wgPostEdit: 'saved' }, fetch ), true );
	assert.equal( window.sessionStorage.getItem( STORAGE_KEY ), null );

	// A record older than an hour is ignored.
	await editAndAccept( '' );
	submitWith( 'wpSave' );
	const record = stored();
	record.ts -= 2 * 60 * 60 * 1000;
	window.sessionStorage.setItem( STORAGE_KEY, JSON.stringify( record ) );
	fetch = fakeFetch( () => ( { status: 201, body: {} } ) );
	assert.equal( await view( { wgCurRevisionId: 101, wgPostEdit: 'saved' }, fetch ), false );
	assert.equal( fetch.calls.length, 0 );
} );

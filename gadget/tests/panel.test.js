/**
 * The panel on the edit page: rendering, Add/Undo, Reject with reasons, Skip, and what is
 * posted to the service.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
'use strict';

const { test } = require( 'node:test' );
const assert = require( 'node:assert/strict' );
const {
	loadGadget, fakeService, fakeFetch, batchAnswer, suggestionsResponse, category, settle, textbox, items
} = require( './helpers' );

const PAGE = 'Albedo is the fraction of light reflected.\n\n[[Category:Optics]]\n';

function twoCategories() {
	return fakeService( {
		categories: suggestionsResponse( [
			category( 's1', 'Climate forcing', { explanation: 'in 4 of the 7 linked articles' } ),
			category( 's2', 'Radiometry', { confidence: 'low', explanation: 'similar articles' } )
		] )
	} );
}

function decisionCalls( fetch ) {
	return fetch.calls.filter( ( call ) => call.path === '/api/v1/decisions/batch' );
}

function click( item, selector ) {
	const element = item.querySelector( selector );
	assert.ok( element, `${ selector } exists` );
	assert.equal( element.hidden, false, `${ selector } is visible` );
	element.click();
}

test( 'suggestions are fetched for the revision being edited and shown above the edit box', async () => {
	const fetch = twoCategories();
	await loadGadget( { text: PAGE, fetch, settings: { backend: 'http://127.0.0.1:8000/' } } );

	assert.equal( fetch.calls.length, 1 );
	const call = fetch.calls[ 0 ];
	assert.equal( call.method, 'GET' );
	assert.equal( call.url.split( '?' )[ 0 ], 'http://127.0.0.1:8000/api/v1/suggestions' );
	// The revision, not the title: the service may have looked up the title's latest revision
	// a minute before, which is the one before a save just made.
	assert.deepEqual( call.query, { wiki: 'enwiki', revid: '100', task: 'categories', user: 'Example' } );
	assert.match( call.headers[ 'Api-User-Agent' ], /^wiki-suggest-gadget\/\d+\.\d+\.\d+ \(https:\/\/wiki-suggest\.toolforge\.org\/toolcard\)$/ );
	assert.equal( call.credentials, 'omit' );

	const panel = document.getElementById( 'wiki-suggest-panel' );
	assert.ok( panel );
	assert.equal( panel.nextElementSibling, textbox(), 'the panel sits right above the edit box' );
	const list = items();
	assert.equal( list.length, 2 );
	assert.equal( list[ 0 ].dataset.id, 's1' );
	assert.equal( list[ 0 ].dataset.state, 'pending' );
	assert.equal( list[ 0 ].querySelector( '.wiki-suggest-label' ).textContent, 'Climate forcing' );
	assert.equal( list[ 0 ].querySelector( '.wiki-suggest-label' ).getAttribute( 'href' ), '/wiki/Category:Climate_forcing' );
	assert.equal( list[ 0 ].querySelector( '.wiki-suggest-confidence' ).textContent, 'High confidence' );
	assert.ok( list[ 1 ].querySelector( '.wiki-suggest-confidence-low' ) );
	assert.equal( list[ 0 ].querySelector( '.wiki-suggest-explanation' ).textContent, 'in 4 of the 7 linked articles' );
	assert.equal( list[ 0 ].querySelector( '.wiki-suggest-wikitext' ).textContent, '[[Category:Climate forcing]]' );

	const disclaimer = panel.querySelector( '.wiki-suggest-disclaimer' );
	assert.match( disclaimer.textContent, /machine-generated and may be wrong/ );
	assert.equal( disclaimer.querySelector( 'a.wiki-suggest-toolcard' ).getAttribute( 'href' ), 'http://127.0.0.1:8000/toolcard' );
	// What becomes of the choices, with the page that lists what is kept and published.
	assert.match( disclaimer.textContent, /records your choices, with your user name if you are logged in.*publishes them without names\. What is kept$/ );
	const data = disclaimer.querySelector( 'a.wiki-suggest-data' );
	assert.equal( data.getAttribute( 'href' ), 'http://127.0.0.1:8000/data#published' );
	assert.equal( data.getAttribute( 'rel' ), 'noopener noreferrer' );
} );

test( 'every action is a labelled button that cannot submit the edit form', async () => {
	await loadGadget( { text: PAGE, fetch: twoCategories() } );
	const item = items()[ 0 ];
	for ( const selector of [ '.wiki-suggest-add', '.wiki-suggest-reject', '.wiki-suggest-skip', '.wiki-suggest-undo' ] ) {
		const button = item.querySelector( selector );
		assert.equal( button.tagName, 'BUTTON' );
		assert.equal( button.type, 'button' );
		assert.match( button.getAttribute( 'aria-label' ), /Climate forcing/ );
		// The accessible name starts with the visible text (WCAG 2.5.3, label in name).
		assert.ok( button.getAttribute( 'aria-label' ).startsWith( button.textContent + ':' ), button.getAttribute( 'aria-label' ) );
	}
	assert.equal( item.querySelector( '.wiki-suggest-undo' ).hidden, true );
	assert.equal( item.querySelector( '.wiki-suggest-reasons' ).hidden, true );
	// Enter in the comment field must not submit (= save) the edit form.
	const comment = item.querySelector( '.wiki-suggest-comment' );
	const event = new window.KeyboardEvent( 'keydown', { key: 'Enter', bubbles: true, cancelable: true } );
	comment.dispatchEvent( event );
	assert.equal( event.defaultPrevented, true );
	assert.equal( item.querySelector( `label[for="${ comment.id }"]` ).textContent, 'Comment (optional)' );
} );

test( 'Add inserts after the last category and posts the acceptance; Undo removes it again', async () => {
	const fetch = twoCategories();
	await loadGadget( { text: PAGE, fetch } );
	const item = items()[ 0 ];

	click( item, '.wiki-suggest-add' );
	await settle();
	assert.equal( textbox().value, 'Albedo is the fraction of light reflected.\n\n[[Category:Optics]]\n[[Category:Climate forcing]]\n' );
	assert.equal( item.dataset.state, 'accepted' );
	assert.equal( item.querySelector( '.wiki-suggest-add' ).hidden, true );
	assert.equal( document.activeElement, item.querySelector( '.wiki-suggest-undo' ) );

	const posted = decisionCalls( fetch );
	assert.equal( posted.length, 1 );
	assert.deepEqual( posted[ 0 ].body, { user: 'Example', decisions: [ { suggestion_id: 's1', decision: 'accept' } ] } );
	assert.equal( posted[ 0 ].method, 'POST' );
	assert.equal( posted[ 0 ].headers[ 'Content-Type' ], 'application/json' );
	assert.match( posted[ 0 ].headers[ 'Api-User-Agent' ], /^wiki-suggest-gadget\// );
	assert.equal( posted[ 0 ].credentials, 'omit' );
	assert.equal( posted[ 0 ].keepalive, false );
	assert.equal( posted[ 0 ].url, 'https://wiki-suggest.toolforge.org/api/v1/decisions/batch' );
	assert.equal( item.querySelector( '.wiki-suggest-item-status' ).textContent, 'Added to the text. Save the page to keep it.',
		'a stored decision leaves the status as it is' );
	assert.equal( window.localStorage.getItem( 'wiki-suggest-outbox' ), null, 'the outbox is empty again' );

	click( item, '.wiki-suggest-undo' );
	assert.equal( textbox().value, PAGE );
	assert.equal( item.dataset.state, 'pending' );
	assert.equal( document.activeElement, item.querySelector( '.wiki-suggest-add' ) );

	// Adding again needs no second report.
	click( item, '.wiki-suggest-add' );
	await settle();
	assert.equal( decisionCalls( fetch ).length, 1 );
	assert.match( textbox().value, /\[\[Category:Climate forcing\]\]/ );
} );

test( 'the second click of a double click on Add does not undo it (Undo takes Add\'s place)', async () => {
	const fetch = twoCategories();
	await loadGadget( { text: PAGE, fetch } );
	const item = items()[ 0 ];
	const added = 'Albedo is the fraction of light reflected.\n\n[[Category:Optics]]\n[[Category:Climate forcing]]\n';
	const clicks = ( selector, detail ) => item.querySelector( selector ).dispatchEvent(
		new window.MouseEvent( 'click', { bubbles: true, cancelable: true, detail } ) );
	clicks( '.wiki-suggest-add', 1 );
	clicks( '.wiki-suggest-undo', 2 ); // where the pointer is when the second click comes
	await settle();
	assert.equal( textbox().value, added );
	assert.equal( item.dataset.state, 'accepted' );
	assert.equal( decisionCalls( fetch ).length, 1 );
	// A click of its own, or the keyboard (no click count), still undoes.
	clicks( '.wiki-suggest-undo', 0 );
	assert.equal( textbox().value, PAGE );
	clicks( '.wiki-suggest-add', 2 ); // and the double click's second click does not add again
	assert.equal( textbox().value, PAGE );
	clicks( '.wiki-suggest-add', 1 );
	assert.equal( textbox().value, added );
} );

test( 'Add of a category the editor already typed in changes nothing and says so', async () => {
	const fetch = twoCategories();
	const text = 'Albedo is the fraction of light reflected.\n\n[[Category:Optics]]\n[[Category:Climate_forcing|Albedo]]\n';
	await loadGadget( { text, fetch } );
	const [ first ] = items();
	click( first, '.wiki-suggest-add' );
	await settle();
	assert.equal( textbox().value, text );
	assert.equal( first.dataset.state, 'pending', 'still to be skipped or rejected' );
	assert.equal( first.querySelector( '.wiki-suggest-item-status' ).textContent, 'This category is already in the text.' );
	assert.equal( decisionCalls( fetch ).length, 0 );
} );

test( 'two additions in a row, undone in any order, give back the original text', async () => {
	await loadGadget( { text: PAGE, fetch: twoCategories() } );
	const [ first, second ] = items();
	click( first, '.wiki-suggest-add' );
	click( second, '.wiki-suggest-add' );
	assert.equal( textbox().value, 'Albedo is the fraction of light reflected.\n\n[[Category:Optics]]\n[[Category:Climate forcing]]\n[[Category:Radiometry]]\n' );
	click( first, '.wiki-suggest-undo' );
	assert.equal( textbox().value, 'Albedo is the fraction of light reflected.\n\n[[Category:Optics]]\n[[Category:Radiometry]]\n' );
	click( second, '.wiki-suggest-undo' );
	assert.equal( textbox().value, PAGE );
} );

test( 'Undo refuses when the editor changed the added text', async () => {
	await loadGadget( { text: PAGE, fetch: twoCategories() } );
	const item = items()[ 0 ];
	click( item, '.wiki-suggest-add' );
	textbox().value = textbox().value.replace( 'Climate forcing', 'Climate change' );
	click( item, '.wiki-suggest-undo' );
	assert.match( textbox().value, /Climate change/ );
	assert.equal( item.dataset.state, 'accepted' );
	assert.match( item.querySelector( '.wiki-suggest-item-status' ).textContent, /remove it by hand/ );
} );

test( 'references go after their anchor, replacing the citation-needed template', async () => {
	const text = 'Snow has a high albedo.{{Citation needed|date=May 2020}} Water is dark.\n';
	const fetch = fakeService( {
		references: suggestionsResponse( [ {
			id: 'r1',
			task: 'references',
			label: 'Coakley (2003)',
			wikitext: '<ref>{{cite journal |last=Coakley |year=2003 |title=Reflectance and albedo}}</ref>',
			confidence: 'medium',
			explanation: 'cited for the same statement in 2 linked articles',
			insert: { kind: 'reference', anchor: 'Snow has a high albedo.', replace: '{{Citation needed|date=May 2020}}', statement: 'Snow has a high albedo.' }
		}, {
			id: 'r2',
			task: 'references',
			label: 'Gone',
			wikitext: '<ref>Gone</ref>',
			insert: { kind: 'reference', anchor: 'A sentence no longer there.', replace: null }
		} ] )
	} );
	await loadGadget( { text, fetch, settings: { tasks: [ 'references' ] } } );
	assert.deepEqual( fetch.calls.map( ( call ) => call.query.task ), [ 'references' ] );
	const [ item, missing ] = items();
	assert.equal( item.querySelector( '.wiki-suggest-task' ).textContent, 'Reference' );
	assert.equal( item.querySelector( 'a' ), null, 'a reference label is no link' );
	assert.equal( item.querySelector( '.wiki-suggest-statement-text' ).textContent, 'Snow has a high albedo.' );
	assert.equal( item.querySelector( '.wiki-suggest-statement-text' ).getAttribute( 'lang' ), 'en' );
	assert.equal( missing.querySelector( '.wiki-suggest-statement' ), null, 'no statement, no line' );

	// "Show in text" selects the statement in the edit box.
	click( item, '.wiki-suggest-locate' );
	assert.equal( document.activeElement, textbox() );
	assert.deepEqual( [ textbox().selectionStart, textbox().selectionEnd ], [ 0, 'Snow has a high albedo.'.length ] );

	click( item, '.wiki-suggest-add' );
	assert.equal( textbox().value, 'Snow has a high albedo.<ref>{{cite journal |last=Coakley |year=2003 |title=Reflectance and albedo}}</ref> Water is dark.\n' );
	click( item, '.wiki-suggest-undo' );
	assert.equal( textbox().value, text );

	click( missing, '.wiki-suggest-add' );
	await settle();
	assert.equal( textbox().value, text );
	assert.equal( missing.dataset.state, 'pending' );
	assert.match( missing.querySelector( '.wiki-suggest-item-status' ).textContent, /not found/ );
	assert.deepEqual( decisionCalls( fetch ).map( ( call ) => call.body.decisions.map( ( d ) => d.suggestion_id ) ), [ [ 'r1' ] ],
		'nothing is accepted when nothing was inserted' );
} );

test( 'naming an unnamed reference: both changes go in, and undo takes both out', async () => {
	const text = 'TeX is a typesetting system.<ref>Knuth 1968.</ref> It is free.{{cn}}\n\n[[Category:Optics]]\n';
	const fetch = fakeService( {
		categories: suggestionsResponse( [ category( 'c1', 'Typesetting' ) ] ),
		references: suggestionsResponse( [ {
			id: 'r1',
			task: 'references',
			label: 'Knuth 1968',
			wikitext: '<ref name="ws-1a2b3c4d">Knuth 1968.</ref>',
			insert: {
				kind: 'reference',
				anchor: 'It is free.',
				replace: '{{cn}}',
				statement: 'It is free.',
				names_reference: { name: 'ws-1a2b3c4d', original: '<ref>Knuth 1968.</ref>', reuse: '<ref name="ws-1a2b3c4d" />' }
			}
		} ] )
	} );
	await loadGadget( { text, fetch, settings: { tasks: [ 'categories', 'references' ] } } );
	const [ cat, ref ] = items();
	click( cat, '.wiki-suggest-add' );
	click( ref, '.wiki-suggest-add' );
	const both = 'TeX is a typesetting system.<ref name="ws-1a2b3c4d" /> It is free.<ref name="ws-1a2b3c4d">Knuth 1968.</ref>\n\n[[Category:Optics]]\n[[Category:Typesetting]]\n';
	assert.equal( textbox().value, both );
	// The category's recorded place moved with both changes: its undo finds it where it is.
	click( cat, '.wiki-suggest-undo' );
	assert.equal( cat.dataset.state, 'pending' );
	click( ref, '.wiki-suggest-undo' );
	assert.equal( textbox().value, text );
	assert.equal( ref.dataset.state, 'pending' );
} );

test( 'Reject shows the task\'s reasons and posts the one clicked with the comment', async () => {
	const fetch = twoCategories();
	await loadGadget( { text: PAGE, fetch } );
	const item = items()[ 1 ];
	click( item, '.wiki-suggest-reject' );
	const reasons = item.querySelector( '.wiki-suggest-reasons' );
	assert.equal( reasons.hidden, false );
	assert.equal( item.querySelector( '.wiki-suggest-reject' ).getAttribute( 'aria-expanded' ), 'true' );
	assert.deepEqual(
		Array.from( reasons.querySelectorAll( '.wiki-suggest-reason' ) ).map( ( b ) => [ b.dataset.reason, b.textContent ] ),
		[ [ 'wrong_topic', 'Wrong topic' ], [ 'too_general', 'Too general' ], [ 'too_specific', 'Too specific' ], [ 'already_covered', 'Already covered' ], [ 'other', 'Other' ] ]
	);
	assert.equal( document.activeElement, reasons.querySelector( '.wiki-suggest-reason' ), 'focus moves to the first reason' );

	item.querySelector( '.wiki-suggest-comment' ).value = '  Radiometry is about measuring.  ';
	item.querySelector( '.wiki-suggest-reason[data-reason="too_general"]' ).click();
	await settle();
	assert.equal( item.dataset.state, 'rejected' );
	assert.equal( reasons.hidden, true );
	assert.equal( textbox().value, PAGE, 'rejecting leaves the text alone' );
	assert.deepEqual( decisionCalls( fetch ).map( ( call ) => call.body ), [ {
		user: 'Example',
		decisions: [ { suggestion_id: 's2', decision: 'reject', reason: 'too_general', comment: 'Radiometry is about measuring.' } ]
	} ] );
} );

test( 'Cancel and Escape close the reasons without posting', async () => {
	const fetch = twoCategories();
	await loadGadget( { text: PAGE, fetch } );
	const item = items()[ 0 ];
	click( item, '.wiki-suggest-reject' );
	click( item, '.wiki-suggest-cancel' );
	assert.equal( item.querySelector( '.wiki-suggest-reasons' ).hidden, true );
	assert.equal( document.activeElement, item.querySelector( '.wiki-suggest-reject' ) );
	click( item, '.wiki-suggest-reject' );
	item.querySelector( '.wiki-suggest-reason' ).dispatchEvent( new window.KeyboardEvent( 'keydown', { key: 'Escape', bubbles: true } ) );
	assert.equal( item.querySelector( '.wiki-suggest-reasons' ).hidden, true );
	await settle();
	assert.equal( decisionCalls( fetch ).length, 0 );
	assert.equal( item.dataset.state, 'pending' );
} );

test( 'Skip posts "skip" without a reason', async () => {
	const fetch = twoCategories();
	await loadGadget( { text: PAGE, fetch } );
	const item = items()[ 0 ];
	click( item, '.wiki-suggest-skip' );
	await settle();
	assert.equal( item.dataset.state, 'skipped' );
	assert.deepEqual( decisionCalls( fetch ).map( ( call ) => call.body ), [ { user: 'Example', decisions: [ { suggestion_id: 's1', decision: 'skip' } ] } ] );
} );

test( 'a decision the service already holds (409) and one it refuses (404) are told to the editor', async () => {
	const fetch = fakeFetch( ( call ) => {
		if ( call.path === '/api/v1/suggestions' ) {
			return { status: 200, body: suggestionsResponse( [ category( 's1', 'A' ), category( 's2', 'B' ) ] ) };
		}
		return batchAnswer( call.body, ( decision ) => ( decision.suggestion_id === 's1' ? 409 : 404 ) );
	} );
	await loadGadget( { text: PAGE, fetch } );
	const [ first, second ] = items();
	click( first, '.wiki-suggest-skip' );
	click( second, '.wiki-suggest-skip' );
	await settle();
	assert.match( first.querySelector( '.wiki-suggest-item-status' ).textContent, /already recorded/ );
	assert.ok( !first.querySelector( '.wiki-suggest-item-error' ) );
	assert.match( second.querySelector( '.wiki-suggest-item-status' ).textContent, /could not be sent/ );
	assert.ok( second.querySelector( '.wiki-suggest-item-status.wiki-suggest-item-error' ) );
	assert.equal( window.localStorage.getItem( 'wiki-suggest-outbox' ), null, 'both answers are final' );
} );

test( 'a paused task shows only the pause notice', async () => {
	const fetch = fakeService( {
		categories: suggestionsResponse( [ category( 's1', 'Should not show' ) ], {
			pause: { reason: 'rejection rate above 30%', since: '2026-05-01T00:00:00Z' }
		} )
	} );
	await loadGadget( { text: PAGE, fetch } );
	const panel = document.getElementById( 'wiki-suggest-panel' );
	const notice = panel.querySelector( '.wiki-suggest-paused' );
	assert.equal( notice.textContent, 'Suggestions are paused for now: rejection rate above 30%' );
	assert.equal( items().length, 0 );
	assert.equal( panel.querySelector( '.wiki-suggest-disclaimer' ), null );
	assert.equal( panel.querySelectorAll( 'button' ).length, 0 );
	// The live region that said "Loading…" says it too (a box added to the page is not announced).
	const status = panel.querySelector( '.wiki-suggest-status' );
	assert.equal( status.getAttribute( 'role' ), 'status' );
	assert.equal( status.textContent, notice.textContent );
	assert.ok( status.classList.contains( 'wiki-suggest-visually-hidden' ), 'shown once, by the box' );
} );

test( 'a user over the daily cap sees only the limit notice', async () => {
	const fetch = fakeService( {
		categories: suggestionsResponse( [], { limit: { reason: 'daily_user_cap', cap: 25 } } )
	} );
	await loadGadget( { text: PAGE, fetch } );
	const panel = document.getElementById( 'wiki-suggest-panel' );
	assert.equal( panel.querySelector( '.wiki-suggest-limit' ).textContent,
		"You have reached this wiki's daily limit of 25 suggestions. Thank you! More tomorrow." );
	assert.equal( panel.querySelector( '.wiki-suggest-disclaimer' ), null );
	assert.equal( panel.querySelectorAll( 'button' ).length, 0 );
} );

test( 'the explanation is said in the user language from its numbers', async () => {
	const fetch = fakeService( {
		categories: suggestionsResponse( [
			category( 's1', 'Кола', { explanation: 'in 2 of the 3 linked articles; in 1 of the 20 most similar articles',
				evidence: { linked: [ 2, 3 ], similar: [ 1, 20 ] } } ),
			category( 's2', 'Криві', { explanation: 'kept as sent', evidence: { linked: [ '<b>', 3 ] } } )
		] )
	} );
	await loadGadget( { text: PAGE, fetch, config: { wgUserLanguage: 'uk' } } );
	const [ first, second ] = items();
	assert.equal( first.querySelector( '.wiki-suggest-explanation' ).textContent,
		"у 2 з 3 пов'язаних статей; у 1 з 20 найбільш схожих статей" );
	assert.equal( second.querySelector( '.wiki-suggest-explanation' ).textContent, 'kept as sent' );
} );

test( 'errors and empty answers are shown as such', async () => {
	await loadGadget( { text: PAGE, fetch: fakeService( {} ) } );
	assert.equal(
		document.querySelector( '#wiki-suggest-panel .wiki-suggest-error' ).textContent,
		'Suggestions could not be loaded (page_not_found).'
	);
	assert.equal( document.querySelector( '#wiki-suggest-panel .wiki-suggest-status' ).textContent,
		'Suggestions could not be loaded (page_not_found).', 'announced in the live region' );
	await loadGadget( { text: PAGE, fetch: fakeService( { categories: suggestionsResponse( [] ) } ) } );
	assert.equal( document.querySelector( '#wiki-suggest-panel .wiki-suggest-none' ).textContent, 'No suggestions for this page.' );
	assert.equal( document.querySelector( '#wiki-suggest-panel .wiki-suggest-status' ).textContent, 'No suggestions for this page.' );
	// With suggestions, the line is empty and nothing is hidden from sight.
	await loadGadget( { text: PAGE, fetch: fakeService( { categories: suggestionsResponse( [ category( 's1', 'X' ) ] ) } ) } );
	const status = document.querySelector( '#wiki-suggest-panel .wiki-suggest-status' );
	assert.equal( status.textContent, '' );
	assert.ok( !status.classList.contains( 'wiki-suggest-visually-hidden' ) );
} );

test( 'an item\'s status line, a live region, is never taken out of the page while empty', () => {
	// A live region that is not rendered when its text changes is often not announced: the
	// "Added to the text" of an item would be missed.
	const css = require( 'node:fs' ).readFileSync( require( 'node:path' ).join( __dirname, '..', 'dist', 'wiki-suggest.css' ), 'utf8' );
	const hiding = css.match( /[^{}]*wiki-suggest-item-status[^{}]*\{[^}]*display:\s*none/ );
	assert.equal( hiding, null, hiding && hiding[ 0 ] );
} );

test( 'the gadget stays away from other content models, namespaces, section edits, new pages, redirects and anonymous users', async () => {
	const cases = [
		{ config: { wgPageContentModel: 'json' } },
		{ config: { wgCurRevisionId: 0, wgArticleId: 0 } },
		{ config: { wgIsRedirect: true } },
		{ config: { wgNamespaceNumber: 14 } },
		{ config: { wgUserName: null } },
		{ config: { wgAction: 'history' } },
		{ html: require( './helpers' ).EDIT_PAGE.replace( 'name="wpSection" value=""', 'name="wpSection" value="2"' ) }
	];
	for ( const options of cases ) {
		const service = twoCategories();
		const result = await loadGadget( Object.assign( { text: PAGE, fetch: service }, options ) );
		assert.equal( result, null, JSON.stringify( options.config || 'section' ) );
		assert.equal( service.calls.length, 0 );
		assert.equal( document.getElementById( 'wiki-suggest-panel' ), null );
	}
	// Namespaces are configurable.
	const fetch = twoCategories();
	await loadGadget( { text: PAGE, fetch, config: { wgNamespaceNumber: 2 }, settings: { namespaces: [ 0, 2 ] } } );
	assert.equal( fetch.calls.length, 1 );
} );

test( 'settings come from the user option, then window.wikiSuggestConfig; bad values are ignored', async () => {
	mw.user.options.set( 'userjs-wiki-suggest', JSON.stringify( { backend: 'http://localhost:5000', tasks: [ 'references', 'bogus' ] } ) );
	try {
		let fetch = fakeService( {} );
		await loadGadget( { text: PAGE, fetch } );
		assert.deepEqual( fetch.calls.map( ( call ) => call.url.split( '?' )[ 0 ] + ' ' + call.query.task ), [
			'http://localhost:5000/api/v1/suggestions references'
		] );
		fetch = fakeService( {} );
		const warnings = [];
		const warn = mw.log.warn;
		mw.log.warn = ( text ) => warnings.push( text );
		try {
			await loadGadget( { text: PAGE, fetch, settings: { backend: 'javascript:alert(1)', tasks: [ 'categories', 'references' ] } } );
		} finally {
			mw.log.warn = warn;
		}
		assert.deepEqual( warnings, [ 'wiki-suggest: ignoring invalid backend setting' ] );
		assert.deepEqual( fetch.calls.map( ( call ) => call.url.split( '?' )[ 0 ] + ' ' + call.query.task ), [
			'http://localhost:5000/api/v1/suggestions categories',
			'http://localhost:5000/api/v1/suggestions references'
		] );
	} finally {
		mw.user.options.set( 'userjs-wiki-suggest', null );
	}
} );

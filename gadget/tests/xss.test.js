/**
 * Suggestion text is untrusted: it must reach the page as text only.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
'use strict';

const { test } = require( 'node:test' );
const assert = require( 'node:assert/strict' );
const { loadGadget, fakeService, suggestionsResponse, items, textbox } = require( './helpers' );

const PAYLOADS = [
	'<img src=x onerror="window.__xss=1">',
	'"><svg onload="window.__xss=2">',
	'javascript:window.__xss=3',
	'</code><script>window.__xss=4</script>',
	'<a href="javascript:window.__xss=5">click</a>'
];

test( 'markup in label, explanation, wikitext, reasons and pause reason creates no element', async () => {
	const suggestions = PAYLOADS.map( ( payload, i ) => ( {
		id: `x${ i }`,
		task: 'categories',
		label: payload,
		wikitext: `[[Category:${ payload }]]`,
		confidence: payload,
		explanation: payload,
		insert: { kind: 'category' }
	} ) );
	const response = suggestionsResponse( suggestions );
	response.meta.task.reasons = [ { id: 'x"><img src=x onerror="window.__xss=6">', label: PAYLOADS[ 0 ] } ];
	delete window.__xss;
	await loadGadget( { text: 'Text.', fetch: fakeService( { categories: response } ) } );

	const panel = document.getElementById( 'wiki-suggest-panel' );
	assert.equal( panel.querySelectorAll( 'img, svg, script, iframe, object, embed' ).length, 0 );
	assert.equal( window.__xss, undefined );
	for ( const element of panel.querySelectorAll( '*' ) ) {
		for ( const attribute of element.attributes ) {
			assert.doesNotMatch( attribute.name, /^on/i, `no event handler attribute on ${ element.tagName }` );
		}
	}
	// Every link is a local wiki path, the tool card or the data page: never javascript:.
	for ( const link of panel.querySelectorAll( 'a' ) ) {
		assert.match( link.getAttribute( 'href' ), /^(\/wiki\/|https:\/\/wiki-suggest\.toolforge\.org\/(toolcard|data#published)$)/ );
	}
	const list = items();
	assert.equal( list.length, PAYLOADS.length );
	list.forEach( ( item, i ) => {
		assert.equal( item.querySelector( '.wiki-suggest-label' ).textContent, PAYLOADS[ i ] );
		assert.equal( item.querySelector( '.wiki-suggest-explanation' ).textContent, PAYLOADS[ i ] );
		assert.equal( item.querySelector( '.wiki-suggest-wikitext' ).textContent, `[[Category:${ PAYLOADS[ i ] }]]` );
		assert.equal( item.querySelector( '.wiki-suggest-confidence' ), null, 'unknown confidence values are not shown' );
	} );
	// The javascript: "title" becomes a local page path.
	assert.equal( list[ 2 ].querySelector( 'a.wiki-suggest-label' ).getAttribute( 'href' ), '/wiki/Category:javascript:window.__xss%3D3' );
	const reason = list[ 0 ].querySelector( '.wiki-suggest-reason' );
	assert.equal( reason.dataset.reason, 'x"><img src=x onerror="window.__xss=6">' );
	assert.equal( reason.textContent, PAYLOADS[ 0 ] );

	// Added text goes into the textarea's value, not the DOM.
	list[ 0 ].querySelector( '.wiki-suggest-add' ).click();
	assert.equal( textbox().value, `Text.\n\n[[Category:${ PAYLOADS[ 0 ] }]]` );
	assert.equal( document.querySelectorAll( 'img, svg, script' ).length, 0 );
	assert.equal( window.__xss, undefined );
} );

test( 'a pause reason and an error code with markup stay text', async () => {
	await loadGadget( {
		text: 'Text.',
		fetch: fakeService( { categories: suggestionsResponse( [], { pause: { reason: PAYLOADS[ 1 ] } } ) } )
	} );
	const notice = document.querySelector( '#wiki-suggest-panel .wiki-suggest-paused' );
	assert.equal( notice.textContent, `Suggestions are paused for now: ${ PAYLOADS[ 1 ] }` );
	assert.equal( notice.children.length, 0 );

	const { fakeFetch } = require( './helpers' );
	await loadGadget( {
		text: 'Text.',
		fetch: fakeFetch( () => ( { status: 400, body: { error: { code: PAYLOADS[ 0 ], message: PAYLOADS[ 1 ] } } } ) )
	} );
	const error = document.querySelector( '#wiki-suggest-panel .wiki-suggest-error' );
	assert.equal( error.textContent, `Suggestions could not be loaded (${ PAYLOADS[ 0 ] }).` );
	assert.equal( error.children.length, 0 );
	assert.equal( window.__xss, undefined );
} );

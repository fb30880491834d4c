/**
 * VisualEditor's visual mode: the surface adapter that shows the document's categories to the
 * panel as text (tests/e2e/test_visualeditor_e2e.py runs it against the real VisualEditor).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
'use strict';

const { test, before } = require( 'node:test' );
const assert = require( 'node:assert/strict' );
const { loadGadget, category, suggestionsResponse, settle, fakeService, VIEW_PAGE } = require( './helpers' );

let ws;

before( async () => {
	await loadGadget( { html: '', config: { wgAction: 'history' } } );
	ws = mw.libs.wikiSuggest;
} );

/**
 * What the adapter uses of VisualEditor's surface model: ve.dm.MetaList's items of a group,
 * insertMeta (at the document's end by default) and removeMeta.
 *
 * @param {Array<Array<string>>} categories [category, sortkey] pairs, in document order
 * @return {Object}
 */
function surfaceModel( categories ) {
	const items = categories.map( ( [ name, sortkey ] ) => ( { type: 'mwCategory', attributes: { category: name, sortkey: sortkey } } ) );
	const metaList = {
		items,
		getItemsInGroup: ( group ) => items.filter( ( item ) => item.type === group )
			.map( ( element ) => ( { element, getElement: () => element } ) ),
		insertMeta: ( meta ) => items.push( meta ),
		removeMeta: ( item ) => items.splice( items.indexOf( item.element ), 1 )
	};
	return { getMetaList: () => metaList };
}

test( 'the visual surface\'s text is the document\'s category links, sort keys included', () => {
	const model = surfaceModel( [ [ 'Category:Optics', '' ], [ 'Category:Climate', 'Albedo' ] ] );
	assert.equal( ws.createVisualSurface( model ).getText(), '[[Category:Optics]]\n[[Category:Climate|Albedo]]' );
	assert.equal( ws.createVisualSurface( surfaceModel( [] ) ).getText(), '' );
} );

test( 'a suggestion added and taken out again in visual mode is a category item of the document', () => {
	const model = surfaceModel( [ [ 'Category:Optics', '' ], [ 'Category:Climate', 'Albedo' ] ] );
	const surface = ws.createVisualSurface( model );
	const suggestion = category( 'a', 'Climate forcing' );
	const plan = ws.planInsertion( surface.getText(), suggestion );
	surface.replace( plan.start, plan.removed.length, plan.inserted );
	assert.deepEqual( model.getMetaList().items.map( ( m ) => [ m.attributes.category, m.attributes.sortkey ] ),
		[ [ 'Category:Optics', '' ], [ 'Category:Climate', 'Albedo' ], [ 'Category:Climate forcing', '' ] ] );
	surface.setText( ws.undoInsertion( surface.getText(), plan ) );
	// The others stay as they were, sort key and all.
	assert.deepEqual( model.getMetaList().items.map( ( m ) => [ m.attributes.category, m.attributes.sortkey ] ),
		[ [ 'Category:Optics', '' ], [ 'Category:Climate', 'Albedo' ] ] );
} );

test( 'a category the document has under another spelling is not added twice', () => {
	const model = surfaceModel( [ [ 'category:climate_forcing', '' ] ] );
	const surface = ws.createVisualSurface( model );
	assert.ok( ws.hasCategory( surface.getText(), 'Climate forcing' ) );
	surface.setText( surface.getText() + '\n[[Category:Climate forcing]]' );
	assert.equal( model.getMetaList().items.length, 1 );
} );

test( 'a reference the wiki could not turn into the document is not added, and the panel says why', async () => {
	// A visual-mode adapter whose insertReference answers false (Parsoid failed), then null
	// (the statement is gone), as VisualEditor's does (tests/e2e: the successful path).
	const outcomes = [ false, null ];
	const surface = { getText: () => '', insertReference: () => Promise.resolve( outcomes.shift() ) };
	const panel = new ws.Panel( ws.readConfig(), surface, null, null );
	document.body.append( panel.$panel[ 0 ] );
	panel.render( [ { task: 'references', ok: true, status: 200, data: suggestionsResponse( [ {
		id: 'r1', task: 'references', label: 'Coakley (2003)', wikitext: '<ref>Coakley (2003)</ref>',
		insert: { kind: 'reference', anchor: 'Snow is bright.', replace: null, statement: 'Snow is bright.' }
	} ] ) } ], [], [] );
	const item = panel.$panel[ 0 ].querySelector( '.wiki-suggest-item' );
	const add = item.querySelector( '.wiki-suggest-add' );
	const status = () => item.querySelector( '.wiki-suggest-item-status' ).textContent;
	add.click();
	assert.equal( add.disabled, true, 'Add waits for the wiki' );
	await settle();
	assert.equal( item.dataset.state, 'pending' );
	assert.equal( add.disabled, false );
	assert.match( status(), /could not turn this suggestion/ );
	add.click();
	await settle();
	assert.equal( item.dataset.state, 'pending' );
	assert.match( status(), /not found/ );
	panel.$panel.remove();
} );

test( 'a VisualEditor session started again before its suggestions came shows them once, in its new panel', async () => {
	// What the session uses of VisualEditor (the real one: tests/e2e/test_visualeditor_e2e.py).
	const surface = { getMode: () => 'visual', getModel: () => surfaceModel( [] ), $element: $( '<div>' ) };
	window.ve = { init: { target: { getSurface: () => surface, section: null, saveFields: {} } } };
	try {
		await loadGadget( {
			html: VIEW_PAGE,
			config: { wgAction: 'view' },
			fetch: fakeService( { categories: suggestionsResponse( [ category( 's1', 'Climate forcing' ), category( 's2', 'Optics' ) ] ) } )
		} );
		surface.$element.appendTo( document.body );
		const session = mw.libs.wikiSuggest.visual;
		// VisualEditor switched mode (or opened again) while the first request was out.
		const first = session.start(), second = session.start();
		assert.equal( await first, null, 'the first panel is gone: its answer is not shown' );
		const panel = await second;
		await settle();
		assert.equal( document.querySelectorAll( '#wiki-suggest-panel' ).length, 1 );
		assert.deepEqual( panel.items.map( ( item ) => item.suggestion.id ), [ 's1', 's2' ] );
		assert.equal( typeof window.ve.init.target.saveFields.wpSummary, 'function' );
		session.stop();
		assert.equal( document.querySelectorAll( '#wiki-suggest-panel' ).length, 0 );
		assert.equal( window.ve.init.target.saveFields.wpSummary, undefined );
	} finally {
		delete window.ve;
	}
} );

test( 'Undo of a reference whose template must first be made again waits for the wiki, and says when it could not', async () => {
	// A visual-mode adapter whose removeReference answers with a promise, as VisualEditor's does
	// for a reference added in source mode that replaced {{cn}} (tests/e2e: with Parsoid).
	const outcomes = [ false, true ];
	const surface = {
		getText: () => '',
		insertReference: () => Promise.resolve( { node: 'mwReference', listKey: 'auto/0', listGroup: 'mwReference/', replaced: null, restore: '{{cn}}' } ),
		holdsReference: () => true,
		removeReference: () => Promise.resolve( outcomes.shift() )
	};
	const panel = new ws.Panel( ws.readConfig(), surface, null, { add: () => Promise.resolve() } );
	document.body.append( panel.$panel[ 0 ] );
	panel.render( [ { task: 'references', ok: true, status: 200, data: suggestionsResponse( [ {
		id: 'r1', task: 'references', label: 'Coakley (2003)', wikitext: '<ref>Coakley (2003)</ref>',
		insert: { kind: 'reference', anchor: 'Snow is bright.', replace: '{{cn}}', statement: 'Snow is bright.' }
	} ] ) } ], [], [] );
	const item = panel.$panel[ 0 ].querySelector( '.wiki-suggest-item' );
	const undo = item.querySelector( '.wiki-suggest-undo' );
	const status = () => item.querySelector( '.wiki-suggest-item-status' ).textContent;
	item.querySelector( '.wiki-suggest-add' ).click();
	await settle();
	assert.equal( item.dataset.state, 'accepted' );
	undo.click();
	assert.equal( undo.disabled, true, 'Undo waits for the wiki' );
	await settle();
	assert.equal( undo.disabled, false );
	assert.equal( item.dataset.state, 'accepted', 'not taken out: the wiki did not make the template' );
	assert.match( status(), /remove it by hand/ );
	undo.click();
	await settle();
	assert.equal( item.dataset.state, 'pending' );
	assert.match( status(), /Removed from the text again/ );
	panel.$panel.remove();
} );

/*
 * After a switch to source mode: the reuse VisualEditor added, as Parsoid wrote it
 * (tests/e2e/test_visualeditor_e2e.py: the same with the real VisualEditor and Parsoid).
 */
const LEAD = 'The Moon<ref>Moonlight, 2004.</ref>. ';
const STATEMENT = 'Earthshine is used to estimate the albedo';

function reuseOf( name ) {
	return {
		wikitext: name ? `<ref name="${ name }" />` : '<ref name="ws-1a2b3c4d">Moonlight, 2004.</ref>',
		insert: Object.assign( { kind: 'reference', anchor: STATEMENT, replace: '{{cn}}', statement: STATEMENT + '.' },
			name ? {} : { names_reference: { name: 'ws-1a2b3c4d', original: '<ref>Moonlight, 2004.</ref>',
				reuse: '<ref name="ws-1a2b3c4d" />' } } )
	};
}

test( 'a reuse of a named footnote, written by Parsoid in its own form, is found and undone', () => {
	const text = 'The Moon<ref name="moon">Moonlight, 2004.</ref>. ' + STATEMENT + '<ref name="moon"/>. More.';
	const plan = ws.referenceInText( text, reuseOf( 'moon' ), '{{cn}}' );
	assert.deepEqual( plan, { start: text.indexOf( '<ref name="moon"/>' ), removed: '{{cn}}', inserted: '<ref name="moon"/>' } );
	assert.equal( ws.undoInsertion( text, plan ),
		'The Moon<ref name="moon">Moonlight, 2004.</ref>. ' + STATEMENT + '{{cn}}. More.' );
	assert.equal( ws.referenceInText( text.replace( '<ref name="moon"/>.', '<ref name="sun"/>.' ), reuseOf( 'moon' ), '' ), null,
		'another footnote\'s reuse is not the one added' );
} );

test( 'an unnamed footnote VisualEditor named for the reuse gets its first form back on Undo', () => {
	const named = LEAD.replace( '<ref>', '<ref name=":0">' ), text = named + STATEMENT + '<ref name=":0" />. More.';
	const plan = ws.referenceInText( text, reuseOf( null ), '' );
	assert.equal( plan.inserted, '<ref name=":0" />' );
	assert.equal( ws.undoInsertion( text, plan ), LEAD + STATEMENT + '. More.' );

	// The editor reused it elsewhere too: the name stays, for that use.
	const elsewhere = text + ' Also<ref name=":0" />.';
	const kept = ws.referenceInText( elsewhere, reuseOf( null ), '' );
	assert.equal( kept.rename, undefined );
	assert.equal( ws.undoInsertion( elsewhere, kept ), named + STATEMENT + '. More. Also<ref name=":0" />.' );

	// A footnote of another text, or a reuse tag away from the statement: not the one added.
	assert.equal( ws.referenceInText( text.replace( 'Moonlight', 'Sunlight' ), reuseOf( null ), '' ), null );
	assert.equal( ws.referenceInText( text.replace( STATEMENT + '<ref name=":0" />', STATEMENT + ' x<ref name=":0" />' ),
		reuseOf( null ), '' ), null );
} );

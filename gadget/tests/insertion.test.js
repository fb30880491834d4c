/**
 * Where suggestions go into the wikitext, and how they come out again.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
'use strict';

const { test, before } = require( 'node:test' );
const assert = require( 'node:assert/strict' );
const { loadGadget, category } = require( './helpers' );

let ws;

before( async () => {
	// A view of another page: the gadget defines its functions and does nothing else.
	await loadGadget( { html: '', config: { wgAction: 'history' } } );
	ws = mw.libs.wikiSuggest;
} );

function insert( text, suggestion, nsNames ) {
	const plan = ws.planInsertion( text, suggestion, nsNames );
	return plan && ws.applyInsertion( text, plan );
}

test( 'a category goes on a new line after the last category link', () => {
	const text = 'Albedo is a measure.\n\n[[Category:Optics]]\n[[Category:Climate]]\n{{Physics-stub}}\n';
	assert.equal(
		insert( text, category( 'a', 'Climate forcing' ) ),
		'Albedo is a measure.\n\n[[Category:Optics]]\n[[Category:Climate]]\n[[Category:Climate forcing]]\n{{Physics-stub}}\n'
	);
} );

test( 'a category goes at the end after a blank line when the page has none, before its stub templates', () => {
	assert.equal(
		insert( 'Albedo is a measure.\n\n{{DEFAULTSORT:Albedo}}\n\n{{Physics-stub}}\n{{climate-stub|date=2024}}\n', category( 'a', 'Optics' ) ),
		'Albedo is a measure.\n\n{{DEFAULTSORT:Albedo}}\n\n[[Category:Optics]]\n\n{{Physics-stub}}\n{{climate-stub|date=2024}}\n'
	);
	assert.equal( insert( 'Albedo is a measure.\n\n', category( 'a', 'Optics' ) ), 'Albedo is a measure.\n\n[[Category:Optics]]\n\n' );
	assert.equal( insert( '{{Physics-stub}}', category( 'a', 'Optics' ) ), '[[Category:Optics]]\n\n{{Physics-stub}}' );
	// A stub template in the middle of the text is not the end of the article.
	assert.equal( insert( '{{Physics-stub}}\nText.', category( 'a', 'Optics' ) ), '{{Physics-stub}}\nText.\n\n[[Category:Optics]]' );
	assert.equal( insert( '', category( 'a', 'Optics' ) ), '[[Category:Optics]]' );
} );

test( 'on wikis whose stub templates come before the categories, a first category goes after them', () => {
	// ukwiki, jawiki, bnwiki, viwiki: "{{Ling-stub}}" (or a local stub template), then the categories.
	for ( const lang of [ 'uk', 'ja', 'bn', 'vi' ] ) {
		mw.config.set( 'wgContentLanguage', lang );
		try {
			assert.equal(
				insert( 'Текст.\n\n{{Ling-stub}}\n', category( 'a', 'Мовознавство' ) ),
				'Текст.\n\n{{Ling-stub}}\n\n[[Category:Мовознавство]]\n', lang
			);
		} finally {
			mw.config.set( 'wgContentLanguage', undefined );
		}
	}
	mw.config.set( 'wgContentLanguage', 'en' );
	assert.equal( insert( 'Text.\n\n{{Ling-stub}}\n', category( 'a', 'Linguistics' ) ),
		'Text.\n\n[[Category:Linguistics]]\n\n{{Ling-stub}}\n' );
	mw.config.set( 'wgContentLanguage', undefined );
} );

test( 'a category link ending in a direction mark is the same category', () => {
	// bnwiki writes "[[বিষয়শ্রেণী:এশিয়ার রাষ্ট্র\u200e]]" in two articles of the development dump.
	const text = 'লেখা।\n\n[[বিষয়শ্রেণী:এশিয়ার রাষ্ট্র\u200e]]\n';
	assert.ok( ws.hasCategory( text, 'এশিয়ার রাষ্ট্র', [ 'category', 'বিষয়শ্রেণী' ] ) );
	assert.ok( ws.hasCategory( '[[Category:\u202bSnow\u202c]]', 'Snow', [ 'category' ] ) );
} );

test( 'a first letter is upper case as on Wikimedia\'s wikis, so another category is not taken for this one', () => {
	// On kawiki "Ისტორია" (Mtavruli) is not "ისტორია", and "SSeta" is not "ßeta" anywhere.
	const names = [ 'category', 'კატეგორია' ];
	assert.ok( ws.hasCategory( '[[კატეგორია:ისტორია]]', 'ისტორია', names ) );
	assert.ok( !ws.hasCategory( '[[კატეგორია:Ისტორია]]', 'ისტორია', names ) );
	assert.ok( !ws.hasCategory( '[[Category:SSeta]]', 'ßeta', names ) );
	assert.ok( !ws.hasCategory( '[[Category:Ǆemal]]', 'ǅemal', names ) );
	assert.ok( ws.hasCategory( '[[Category:ǆemal]]', 'Ǆemal', names ) );
	assert.ok( ws.hasCategory( '[[Category:ᾀx]]', 'ᾈx', names ) );
	assert.ok( !ws.hasCategory( '[[Category:\ud81b\ude40x]]', '\ud81b\ude60x', names ), 'Medefaidrin stays' );
} );

test( 'a category the text has already, under any spelling, is found', () => {
	const text = 'Text.\n[[category:Climate_forcing|Albedo]]\n[[Категорія: снег ]]\n<!-- [[Category:Old]] -->\n[[:Category:Linked]]';
	const names = [ 'category', 'категорія' ];
	assert.ok( ws.hasCategory( text, 'Climate forcing', names ) );
	assert.ok( ws.hasCategory( text, 'Снег', names ), 'the first letter is not case-sensitive' );
	assert.ok( !ws.hasCategory( text, 'Old', names ), 'not in a comment' );
	assert.ok( !ws.hasCategory( text, 'Linked', names ), 'not a colon link' );
	assert.ok( !ws.hasCategory( text, 'Climate Forcing', names ), 'the rest of the name is' );
} );

test( 'category links in comments, nowiki and colon links do not count; sort keys and local names do', () => {
	const text = 'Text [[:Category:Linked]].\n[[category: Optics|Albedo]]\n[[Kategorie:Klima]]\n<!-- [[Category:Old]] -->\n<nowiki>[[Category:Shown]]</nowiki>\nEnd';
	const plan = ws.planInsertion( text, category( 'a', 'New' ), [ 'category', 'kategorie' ] );
	assert.equal( text.slice( 0, plan.start ), 'Text [[:Category:Linked]].\n[[category: Optics|Albedo]]\n[[Kategorie:Klima]]' );
	// Without the local name, the last counted link is the English one.
	const englishOnly = ws.planInsertion( text, category( 'a', 'New' ), [ 'category' ] );
	assert.equal( text.slice( 0, englishOnly.start ), 'Text [[:Category:Linked]].\n[[category: Optics|Albedo]]' );
} );

test( 'a self-closing <nowiki/> hides nothing after it', () => {
	// Common in article text ("[[measure]]<nowiki/>s"): it is not the start of a nowiki block.
	for ( const tag of [ '<nowiki/>', '<nowiki />', '<NOWIKI/>' ] ) {
		const text = `Albedo is a [[measure]]${ tag }s of reflection.\n\n[[Category:Optics]]\n[[Category:Climate forcing]]\n`;
		assert.ok( ws.hasCategory( text, 'Climate forcing', [ 'category' ] ), tag );
		assert.equal( ws.lastCategoryEnd( text, [ 'category' ] ), text.length - 1, tag );
		assert.equal( insert( text, category( 'a', 'Radiometry' ), [ 'category' ] ),
			text.replace( /\n$/, '\n[[Category:Radiometry]]\n' ), tag );
	}
	// A real block still hides what is in it, and what follows it counts again.
	const block = 'A <nowiki>[[Category:Shown]]</nowiki> b.\n[[Category:Real]]';
	assert.ok( !ws.hasCategory( block, 'Shown', [ 'category' ] ) && ws.hasCategory( block, 'Real', [ 'category' ] ) );
	assert.ok( !ws.hasCategory( 'A <pre>\n[[Category:Code]]', 'Code', [ 'category' ] ), 'an unclosed block runs to the end' );
} );

test( 'the wiki\'s category namespace names come from wgNamespaceIds', () => {
	mw.config.set( 'wgNamespaceIds', { category: 14, катеґорія: 14, категорія: 14, file: 6 } );
	const text = '[[Категорія:Фізика]]\n[[File:X.png]]';
	assert.equal( ws.lastCategoryEnd( text, [ 'category', 'категорія' ] ), '[[Категорія:Фізика]]'.length );
	assert.equal(
		insert( text, category( 'a', 'Оптика', { wikitext: '[[Категорія:Оптика]]' } ) ),
		'[[Категорія:Фізика]]\n[[Категорія:Оптика]]\n[[File:X.png]]'
	);
} );

const reference = ( anchor, replace ) => ( {
	id: 'r1',
	task: 'references',
	label: 'Coakley 2003',
	wikitext: '<ref>{{cite journal |last=Coakley |year=2003}}</ref>',
	insert: { kind: 'reference', anchor, replace }
} );

test( 'a reference goes right after its anchor and replaces a citation-needed template', () => {
	const text = 'Snow has a high albedo.{{Citation needed|date=May 2020}} Water is dark.';
	assert.equal(
		insert( text, reference( 'Snow has a high albedo.', '{{Citation needed|date=May 2020}}' ) ),
		'Snow has a high albedo.<ref>{{cite journal |last=Coakley |year=2003}}</ref> Water is dark.'
	);
} );

test( 'a reference keeps text that is not the announced template', () => {
	const text = 'Snow has a high albedo. {{Citation needed|date=May 2020}}';
	assert.equal(
		insert( text, reference( 'Snow has a high albedo.', '{{Citation needed|date=May 2020}}' ) ),
		'Snow has a high albedo.<ref>{{cite journal |last=Coakley |year=2003}}</ref> {{Citation needed|date=May 2020}}'
	);
	assert.equal(
		insert( 'Snow is white. More.', reference( 'Snow is white.', null ) ),
		'Snow is white.<ref>{{cite journal |last=Coakley |year=2003}}</ref> More.'
	);
} );

test( 'a reference goes after a copy of its sentence outside comments, the one marked as needing it', () => {
	const sentence = 'Snow has a high albedo.';
	const mark = '{{Citation needed|date=May 2020}}';
	const text = `<!-- ${ sentence } -->\nLead: ${ sentence } More.\n\nBody: ${ sentence }${ mark } End.`;
	assert.equal(
		insert( text, reference( sentence, mark ) ),
		`<!-- ${ sentence } -->\nLead: ${ sentence } More.\n\nBody: ${ sentence }<ref>{{cite journal |last=Coakley |year=2003}}</ref> End.`
	);
	// Without a mark to replace: the first copy outside the comment.
	assert.equal(
		insert( `<!-- ${ sentence } -->\nLead: ${ sentence } More.`, reference( sentence, null ) ),
		`<!-- ${ sentence } -->\nLead: ${ sentence }<ref>{{cite journal |last=Coakley |year=2003}}</ref> More.`
	);
	// Only in a comment or nowiki: no place.
	assert.equal( ws.planInsertion( `<!-- ${ sentence } -->`, reference( sentence, null ) ), null );
	assert.equal( ws.planInsertion( `<nowiki>${ sentence }</nowiki>`, reference( sentence, null ) ), null );
} );

test( 'a reference whose anchor is not in the text has no place', () => {
	assert.equal( ws.planInsertion( 'Other text.', reference( 'Snow has a high albedo.', null ) ), null );
	assert.equal( ws.planInsertion( 'Other text.', reference( '', null ) ), null );
} );

test( 'undo restores the text, also after the text moved around it', () => {
	const original = 'Snow has a high albedo.{{Citation needed|date=May 2020}} Water is dark.';
	const plan = ws.planInsertion( original, reference( 'Snow has a high albedo.', '{{Citation needed|date=May 2020}}' ) );
	const inserted = ws.applyInsertion( original, plan );
	assert.equal( ws.undoInsertion( inserted, plan ), original );
	// The editor typed before the insertion: the recorded offset is stale.
	assert.equal( ws.undoInsertion( 'Intro. ' + inserted, plan ), 'Intro. ' + original );
	// The inserted text was edited by hand: nothing is removed.
	assert.equal( ws.undoInsertion( inserted.replace( 'Coakley', 'Smith' ), plan ), null );
} );

const naming = ( anchor, replace ) => ( {
	id: 'r2',
	task: 'references',
	label: 'Knuth 1968',
	wikitext: '<ref name="ws-1a2b3c4d">Knuth 1968.</ref>',
	insert: {
		kind: 'reference',
		anchor,
		replace,
		names_reference: { name: 'ws-1a2b3c4d', original: '<ref>Knuth 1968.</ref>', reuse: '<ref name="ws-1a2b3c4d" />' }
	}
} );

test( 'an unnamed reference used again gets a name, and its first use becomes the reuse tag', () => {
	const text = 'TeX is a typesetting system.<ref>Knuth 1968.</ref> It is free.{{cn}} More text.';
	const plan = ws.planInsertion( text, naming( 'It is free.', '{{cn}}' ) );
	const added = 'TeX is a typesetting system.<ref name="ws-1a2b3c4d" /> It is free.<ref name="ws-1a2b3c4d">Knuth 1968.</ref> More text.';
	assert.equal( ws.applyInsertion( text, plan ), added );
	assert.equal( ws.undoInsertion( added, plan ), text );
	// The statement before the reference's first use.
	const earlier = 'It is free.{{cn}} TeX is a typesetting system.<ref>Knuth 1968.</ref>';
	const back = ws.applyInsertion( earlier, ws.planInsertion( earlier, naming( 'It is free.', '{{cn}}' ) ) );
	assert.equal( back, 'It is free.<ref name="ws-1a2b3c4d">Knuth 1968.</ref> TeX is a typesetting system.<ref name="ws-1a2b3c4d" />' );
	assert.equal( ws.undoInsertion( back, ws.planInsertion( earlier, naming( 'It is free.', '{{cn}}' ) ) ), earlier );
	// The first use was changed by hand: the named reference is inserted as it is.
	const changed = 'TeX.<ref>Knuth, 1968.</ref> It is free.{{cn}}';
	assert.equal( insert( changed, naming( 'It is free.', '{{cn}}' ) ),
		'TeX.<ref>Knuth, 1968.</ref> It is free.<ref name="ws-1a2b3c4d">Knuth 1968.</ref>' );
	// The reuse tag was edited since: undo changes nothing rather than leave half of it.
	assert.equal( ws.undoInsertion( added.replace( '<ref name="ws-1a2b3c4d" />', '<ref name="x" />' ), plan ), null );
} );

test( 'the service address must be an http(s) URL', () => {
	assert.equal( ws.normaliseBackend( 'http://127.0.0.1:8000/' ), 'http://127.0.0.1:8000' );
	assert.equal( ws.normaliseBackend( 'https://wiki-suggest.toolforge.org' ), 'https://wiki-suggest.toolforge.org' );
	assert.equal( ws.normaliseBackend( 'javascript:alert(1)' ), null );
	assert.equal( ws.normaliseBackend( '//evil.example' ), null );
	assert.equal( ws.normaliseBackend( 'https://user@evil.example' ), null );
	assert.equal( ws.normaliseBackend( 42 ), null );
} );

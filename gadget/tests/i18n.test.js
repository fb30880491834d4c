/**
 * Messages: the user's language with English fallback, and consistent message files.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
'use strict';

const { test } = require( 'node:test' );
const assert = require( 'node:assert/strict' );
const fs = require( 'node:fs' );
const path = require( 'node:path' );
const { loadGadget, fakeService, suggestionsResponse, category, items, gadgetSource } = require( './helpers' );

const I18N = path.join( __dirname, '..', 'i18n' );
const read = ( lang ) => JSON.parse( fs.readFileSync( path.join( I18N, `${ lang }.json` ), 'utf8' ) );
const keys = ( data ) => Object.keys( data ).filter( ( key ) => key !== '@metadata' );

test( 'every language file translates every message English has, and only those', () => {
	const en = keys( read( 'en' ) );
	assert.deepEqual( keys( read( 'qqq' ) ).sort(), en.slice().sort(), 'qqq documents every message' );
	for ( const lang of [ 'bn', 'ja', 'uk', 'vi' ] ) {
		const translated = keys( read( lang ) );
		assert.deepEqual( translated.filter( ( key ) => !en.includes( key ) ), [], `${ lang } has no unknown keys` );
		assert.deepEqual( en.filter( ( key ) => !translated.includes( key ) ), [], `${ lang } translates every key` );
		for ( const key of [ 'wiki-suggest-add', 'wiki-suggest-reject', 'wiki-suggest-skip', 'wiki-suggest-undo', 'wiki-suggest-heading', 'wiki-suggest-disclaimer' ] ) {
			assert.ok( translated.includes( key ), `${ lang } translates ${ key }` );
			assert.notEqual( read( lang )[ key ], read( 'en' )[ key ], `${ lang } ${ key } is translated` );
		}
		for ( const key of translated ) {
			const params = ( s ) => [ ...new Set( s.match( /\$\d/g ) || [] ) ].sort().join();
			assert.equal( params( read( lang )[ key ] ), params( read( 'en' )[ key ] ), `${ lang } ${ key } keeps its parameters` );
		}
	}
} );

test( 'every message the source uses exists, and every message is used', async () => {
	const srcDir = path.join( __dirname, '..', 'src' );
	// The script and the parts gadget/build.mjs puts into it.
	const source = fs.readdirSync( srcDir ).filter( ( file ) => file.endsWith( '.js' ) )
		.map( ( file ) => fs.readFileSync( path.join( srcDir, file ), 'utf8' ) ).join( '\n' );
	const used = new Set( Array.from( source.matchAll( /\bmsg\( '([a-z_-]+)'(?! \+)/g ), ( m ) => `wiki-suggest-${ m[ 1 ] }` ) );
	// Built keys: documented in the source next to their use.
	for ( const suffix of [ 'high', 'medium', 'low' ] ) {
		used.add( `wiki-suggest-confidence-${ suffix }` );
	}
	for ( const reason of [ 'wrong_topic', 'too_general', 'too_specific', 'already_covered', 'other',
		'not_supporting', 'unreliable', 'irrelevant', 'already_cited' ] ) {
		used.add( `wiki-suggest-reason-${ reason }` );
	}
	// Written to MediaWiki:Gadget-wiki-suggest by the deploy command (suggest/deploy.py).
	used.add( 'wiki-suggest-gadget-description' );
	const en = keys( read( 'en' ) );
	assert.deepEqual( [ ...used ].filter( ( key ) => !en.includes( key ) ), [], 'used but missing' );
	assert.deepEqual( en.filter( ( key ) => !used.has( key ) ), [], 'defined but unused' );
	assert.match( await gadgetSource(), /"wiki-suggest-add": "追加"/, 'the build embeds the translations' );
} );

test( 'the panel speaks the user\'s language and falls back to English per message', async () => {
	const fetch = () => fakeService( { categories: suggestionsResponse( [ category( 's1', 'Альбедо' ) ] ) } );
	await loadGadget( { text: 'x', fetch: fetch(), config: { wgUserLanguage: 'uk' } } );
	assert.equal( items()[ 0 ].querySelector( '.wiki-suggest-add' ).textContent, 'Додати' );
	assert.equal( items()[ 0 ].querySelector( '.wiki-suggest-add' ).getAttribute( 'aria-label' ), 'Додати: Альбедо' );
	assert.equal( items()[ 0 ].querySelector( '.wiki-suggest-reason[data-reason="too_general"]' ).textContent, 'Надто загальна' );

	const ws = mw.libs.wikiSuggest;
	mw.config.set( 'wgUserLanguage', 'bn' );
	assert.equal( ws.msg( 'add' ), 'যোগ করুন' );
	assert.equal( ws.msg( 'post-failed' ), 'আপনার সিদ্ধান্ত সরঞ্জামটিতে পাঠানো যায়নি।' );
	// Variants use their base language; unknown languages use English.
	assert.equal( ws.pickLanguage( 'ja-jp' ), 'ja' );
	assert.equal( ws.pickLanguage( 'de' ), 'en' );
	assert.equal( ws.pickLanguage( undefined ), 'en' );
	mw.config.set( 'wgUserLanguage', 'de' );
	assert.equal( ws.msg( 'error', 'page_not_found' ), 'Suggestions could not be loaded (page_not_found).' );
	assert.equal( ws.msg( 'no-such-message' ), '⧼wiki-suggest-no-such-message⧽' );
	// Parameters are inserted once, literally.
	assert.equal( ws.msg( 'action-label', '$2 & $1', 'x' ), '$2 & $1: x' );
} );

test( 'PLURAL takes the form the user language\'s rules choose', async () => {
	await loadGadget( { html: '', config: { wgAction: 'history', wgUserLanguage: 'uk' } } );
	const ws = mw.libs.wikiSuggest;
	// Without mediawiki.language: the English rule.
	delete mw.language;
	assert.equal( ws.msg( 'evidence-linked', 1, 21 ), 'у 1 з 21 пов\'язаних статей' );
	// With it: Ukrainian's one / few / many, as mediawiki.language has them.
	mw.language = { convertPlural: ( n, forms ) => {
		const form = n % 10 === 1 && n % 100 !== 11 ? 0 :
			n % 10 >= 2 && n % 10 <= 4 && ( n % 100 < 12 || n % 100 > 14 ) ? 1 : 2;
		return forms[ Math.min( form, forms.length - 1 ) ];
	} };
	assert.equal( ws.msg( 'evidence-linked', 1, 21 ), 'у 1 з 21 пов\'язаної статті' );
	assert.equal( ws.msg( 'evidence-similar', 3, 24 ), 'у 3 з 24 найбільш схожих статей' );
	assert.equal( ws.msg( 'limit', 3 ), 'Ви досягли денного ліміту цієї вікі: 3 пропозиції. Дякуємо! Більше — завтра.' );
	assert.equal( ws.msg( 'limit', 25 ), 'Ви досягли денного ліміту цієї вікі: 25 пропозицій. Дякуємо! Більше — завтра.' );
	mw.config.set( 'wgUserLanguage', 'en' );
	assert.equal( ws.msg( 'limit', 1 ), 'You have reached this wiki\'s daily limit of 1 suggestion. Thank you! More tomorrow.' );
	// A language without a translation gets the English text with English forms: Russian's
	// rules would pick "one" for 21 from English's two forms.
	mw.config.set( 'wgUserLanguage', 'ru' );
	assert.equal( ws.msg( 'limit', 21 ), 'You have reached this wiki\'s daily limit of 21 suggestions. Thank you! More tomorrow.' );
	assert.equal( ws.msg( 'evidence-linked', 1, 1 ), 'in 1 of the 1 linked article' );
	assert.equal( ws.msg( 'evidence-similar', 2, 20 ), 'in 2 of the 20 most similar articles' );
	delete mw.language;
} );

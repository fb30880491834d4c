/**
 * The deployable files: dist/ must be what src/ and i18n/ build to, and valid ES5.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
'use strict';

const { test } = require( 'node:test' );
const assert = require( 'node:assert/strict' );
const fs = require( 'node:fs' );
const path = require( 'node:path' );
const { pathToFileURL } = require( 'node:url' );

const GADGET = path.join( __dirname, '..' );

test( 'dist/ is up to date with src/ and i18n/ (run npm run build:gadget)', async () => {
	const build = await import( pathToFileURL( path.join( GADGET, 'build.mjs' ) ).href );
	assert.equal( fs.readFileSync( path.join( GADGET, 'dist', 'wiki-suggest.js' ), 'utf8' ), build.buildScript() );
	assert.equal( fs.readFileSync( path.join( GADGET, 'dist', 'wiki-suggest.css' ), 'utf8' ), build.buildStyle() );
} );

test( 'every part of src/ goes into the script once, in the place of its include line', async () => {
	const build = await import( pathToFileURL( path.join( GADGET, 'build.mjs' ) ).href );
	const main = fs.readFileSync( path.join( GADGET, 'src', 'wiki-suggest.js' ), 'utf8' );
	const parts = fs.readdirSync( path.join( GADGET, 'src' ) )
		.filter( ( file ) => file.endsWith( '.js' ) && file !== 'wiki-suggest.js' ).sort();
	const included = Array.from( main.matchAll( /^\t\/\/ build:include (\S+)$/gm ), ( m ) => m[ 1 ] );
	assert.deepEqual( [ ...included ].sort(), parts, 'each part has one include line' );
	const script = build.includeParts( main );
	assert.ok( !script.includes( 'build:include' ) );
	let at = 0;
	for ( const file of included ) {
		// The part's code (after its leading comment) follows the code before it.
		const code = fs.readFileSync( path.join( GADGET, 'src', file ), 'utf8' ).split( '*/\n' ).slice( 1 ).join( '*/\n' ).trim();
		const found = script.indexOf( code, at );
		assert.ok( found > at, `${ file } in its place` );
		assert.equal( script.indexOf( code, found + 1 ), -1, `${ file } once` );
		at = found;
	}
	assert.throws( () => build.includeParts( '\t// build:include no-such-part.js' ), /ENOENT/ );
} );

test( 'the built script carries the package version and every language', async () => {
	const build = await import( pathToFileURL( path.join( GADGET, 'build.mjs' ) ).href );
	const script = build.buildScript();
	const { version } = JSON.parse( fs.readFileSync( path.join( GADGET, '..', 'package.json' ), 'utf8' ) );
	assert.ok( script.includes( `var VERSION = ${ JSON.stringify( version ) }; // build:version` ) );
	assert.deepEqual( Object.keys( build.loadMessages() ).sort(), [ 'bn', 'en', 'ja', 'uk', 'vi' ] );
} );

test( 'the gadget definition is opt-in and loads on view, edit and submit', () => {
	const lines = fs.readFileSync( path.join( GADGET, 'Gadgets-definition.txt' ), 'utf8' )
		.split( '\n' ).filter( ( line ) => line.startsWith( '*' ) );
	assert.equal( lines.length, 1 );
	const match = lines[ 0 ].match( /^\* ?wiki-suggest\[([^\]]+)\]\|wiki-suggest\.js\|wiki-suggest\.css$/ );
	assert.ok( match, lines[ 0 ] );
	const options = Object.fromEntries( match[ 1 ].split( '|' ).map( ( part ) => {
		const [ key, value ] = part.split( '=' );
		return [ key, value === undefined ? true : value.split( ',' ) ];
	} ) );
	assert.equal( options.ResourceLoader, true );
	assert.equal( options.default, undefined, 'opt-in: no default' );
	assert.deepEqual( options.actions.sort(), [ 'edit', 'submit', 'view' ] );
	for ( const module of [ 'jquery.textSelection', 'mediawiki.util', 'mediawiki.user', 'mediawiki.storage' ] ) {
		assert.ok( options.dependencies.includes( module ), module );
	}
} );

test( 'the definition loads the mediawiki.ui module of every mw-ui class the script uses', () => {
	const definition = fs.readFileSync( path.join( GADGET, 'Gadgets-definition.txt' ), 'utf8' );
	const dependencies = definition.match( /dependencies=([^|\]]+)/ )[ 1 ].split( ',' );
	const script = fs.readFileSync( path.join( GADGET, 'dist', 'wiki-suggest.js' ), 'utf8' );
	const modules = {
		input: 'mediawiki.ui.input',
		button: 'mediawiki.ui.button',
		quiet: 'mediawiki.ui.button',
		progressive: 'mediawiki.ui.button',
		destructive: 'mediawiki.ui.button'
	};
	const used = new Set( Array.from( script.matchAll( /\bmw-ui-([a-z]+)/g ), ( m ) => m[ 1 ] ) );
	assert.ok( used.has( 'input' ) && used.has( 'button' ) );
	for ( const name of used ) {
		assert.ok( modules[ name ], `mw-ui-${ name }: which module styles it?` );
		assert.ok( dependencies.includes( modules[ name ] ), `mw-ui-${ name } needs ${ modules[ name ] }` );
	}
	const readme = fs.readFileSync( path.join( GADGET, 'README.md' ), 'utf8' );
	assert.ok( readme.includes( definition.trim() ), 'the README shows the definition line as it is' );
} );

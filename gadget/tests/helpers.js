/**
 * Test harness: jsdom with MediaWiki's real mw.* and jQuery (npm mock-mediawiki), an edit
 * page fixture, a fake service behind a mocked fetch, and the gadget as built for deployment
 * (built in memory from gadget/src and gadget/i18n, so the tests always see the current source).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
'use strict';

require( 'mock-mediawiki/with-jsdom' );
const path = require( 'node:path' );
const vm = require( 'node:vm' );
const { pathToFileURL } = require( 'node:url' );

const BUILD = path.join( __dirname, '..', 'build.mjs' );

const EDIT_PAGE = `
<div id="content">
	<form id="editform" method="post" action="/w/index.php?title=Albedo&amp;action=submit">
		<input type="hidden" name="wpSection" value="">
		<textarea id="wpTextbox1" name="wpTextbox1" dir="ltr" lang="en"></textarea>
		<div class="editOptions">
			<input id="wpSummary" name="wpSummary" value="">
			<input type="submit" id="wpSave" name="wpSave" value="Save changes">
			<input type="submit" id="wpPreview" name="wpPreview" value="Show preview">
			<input type="submit" id="wpDiff" name="wpDiff" value="Show changes">
		</div>
	</form>
</div>`;

const VIEW_PAGE = '<div id="content"><div id="mw-content-text">Albedo</div></div>';

const MW_CONFIG = {
	wgAction: 'edit',
	wgDBname: 'enwiki',
	wgPageName: 'Albedo',
	wgNamespaceNumber: 0,
	wgPageContentModel: 'wikitext',
	wgPageContentLanguage: 'en',
	wgUserName: 'Example',
	wgUserLanguage: 'en',
	wgCurRevisionId: 100,
	wgRevisionId: 100,
	wgPostEdit: null,
	wgArticlePath: '/wiki/$1',
	wgScript: '/w/index.php',
	wgFormattedNamespaces: { 0: '', 14: 'Category' },
	wgNamespaceIds: { category: 14, '': 0 }
};

const REASONS = [
	{ id: 'wrong_topic', label: 'Wrong topic' },
	{ id: 'too_general', label: 'Too general' },
	{ id: 'too_specific', label: 'Too specific' },
	{ id: 'already_covered', label: 'Already covered' },
	{ id: 'other', label: 'Other' }
];

/**
 * A suggestions response as the service sends it.
 *
 * @param {Object[]} suggestions
 * @param {Object} [extra] Top-level fields to override (e.g. pause)
 * @return {Object}
 */
function suggestionsResponse( suggestions, extra ) {
	return Object.assign( {
		suggestions,
		page: { title: 'Albedo', revid: 100 },
		meta: {

			app_version: '0.1.0',
			account_confirmation: true,
			task: { id: 'categories', version: '1.0', reasons: REASONS },
			backend: {},
			paused: { categories: false, references: false },
			cache: 'miss'
		},
		pause: null
	}, extra || {} );
}

function category( id, label, extra ) {
	return Object.assign( {
		id,
		task: 'categories',
		label,
		wikitext: `[[Category:${ label }]]`,
		score: 0.83,
		confidence: 'high',
		explanation: 'in 4 of the 7 linked articles',
		insert: { kind: 'category' }
	}, extra || {} );
}

/**
 * A fetch replacement that records every request and answers from a route function.
 *
 * @param {Function} route ( {method, url, path, query, body, keepalive} ) =>
 *  {status, body, headers} | Error | Promise of one
 * @return {Function} fetch, with .calls
 */
function fakeFetch( route ) {
	const calls = [];
	const fetch = async ( url, init ) => {
		const parsed = new URL( url );
		const call = {
			url,
			method: init.method,
			headers: Object.assign( {}, init.headers ),
			credentials: init.credentials,
			keepalive: !!init.keepalive,
			path: parsed.pathname,
			query: Object.fromEntries( parsed.searchParams ),
			body: init.body === undefined ? undefined : JSON.parse( init.body ),
			bytes: init.body === undefined ? 0 : Buffer.byteLength( init.body )
		};
		calls.push( call );
		const answer = await route( call );
		if ( answer instanceof Error ) {
			throw answer;
		}
		const text = typeof answer.body === 'string' ? answer.body : JSON.stringify( answer.body );
		const headers = new Map( Object.entries( answer.headers || {} ).map( ( [ k, v ] ) => [ k.toLowerCase(), v ] ) );
		return {
			status: answer.status,
			ok: answer.status >= 200 && answer.status < 300,
			headers: { get: ( name ) => headers.has( name.toLowerCase() ) ? headers.get( name.toLowerCase() ) : null },
			text: async () => text
		};
	};
	fetch.calls = calls;
	return fetch;
}

/**
 * The batch endpoint's answer when it stores every decision.
 *
 * @param {Object} body The request body
 * @param {Function} [status] ( decision ) => per-item status (default 201)
 * @return {{status: number, body: Object}}
 */
function batchAnswer( body, status ) {
	return {
		status: 200,
		body: {
			results: body.decisions.map( ( decision ) => {
				const code = status ? status( decision ) : 201;
				return code === 201 ?
					{ suggestion_id: decision.suggestion_id, status: 201, decision: decision.decision, reason: decision.reason || null } :
					{ suggestion_id: decision.suggestion_id, status: code, error: { code: `e${ code }`, message: 'no' } };
			} )
		}
	};
}

/**
 * The decisions sent to the batch endpoint, one array per request.
 *
 * @param {Function} fetch From fakeFetch()
 * @return {Object[][]}
 */
function batches( fetch ) {
	return fetch.calls.filter( ( call ) => call.path === '/api/v1/decisions/batch' )
		.map( ( call ) => call.body.decisions );
}

/**
 * A fake service: suggestions per task, every decision of a batch stored, 201 for edits.
 *
 * @param {Object<string, Object>} byTask Response body per task
 * @return {Function} fetch
 */
function fakeService( byTask ) {
	return fakeFetch( ( call ) => {
		if ( call.path === '/api/v1/suggestions' ) {
			const body = byTask[ call.query.task ];
			return body ? { status: 200, body } : { status: 404, body: { error: { code: 'page_not_found', message: 'no' } } };
		}
		if ( call.path === '/api/v1/decisions/batch' ) {
			return batchAnswer( call.body );
		}
		return { status: 201, body: {} };
	} );
}

/**
 * Minimal jquery.textSelection (MediaWiki core module, not on npm): the commands the
 * gadget uses, with the same meaning as on a plain textarea.
 */
function installTextSelection() {
	$.fn.textSelection = function ( command, arg ) {
		if ( command === 'getContents' ) {
			return this.val();
		}
		if ( command === 'setContents' ) {
			this.val( arg );
			return this;
		}
		if ( command === 'setSelection' ) {
			this[ 0 ].setSelectionRange( arg.start, arg.end );
			return this;
		}
		if ( command === 'scrollToCaretPosition' ) {
			return this;
		}
		throw new Error( 'textSelection command not supported in tests: ' + command );
	};
}

let sourcePromise = null;

function gadgetSource() {
	if ( !sourcePromise ) {
		sourcePromise = import( pathToFileURL( BUILD ).href ).then( ( build ) => build.buildScript() );
	}
	return sourcePromise;
}

/**
 * Set up a page and run the gadget on it, as ResourceLoader would.
 *
 * @param {Object} options
 * @param {string} [options.html] Page body
 * @param {string} [options.text] Initial wikitext of #wpTextbox1
 * @param {Object} [options.config] mw.config values over MW_CONFIG
 * @param {Object} [options.settings] window.wikiSuggestConfig
 * @param {Function} [options.fetch] fetch replacement
 * @param {boolean} [options.keepStorage] Keep sessionStorage and localStorage (the decision
 *  outbox) from the previous page
 * @param {boolean} [options.keepOutbox] Keep localStorage only
 * @param {Object} [options.outbox] Methods to put on Outbox.prototype before the gadget starts
 *  (now, schedule, cancel: a fake clock and timer)
 * @return {Promise<*>} What the gadget's start-up resolved to (the panel controller on edit pages)
 */
async function loadGadget( options ) {
	options = options || {};
	const source = await gadgetSource();
	// The previous page is gone: its outbox sends nothing more.
	if ( mw.libs.wikiSuggest && mw.libs.wikiSuggest.outbox ) {
		mw.libs.wikiSuggest.outbox.stop();
	}
	document.body.innerHTML = options.html === undefined ? EDIT_PAGE : options.html;
	if ( options.text !== undefined ) {
		document.getElementById( 'wpTextbox1' ).value = options.text;
	}
	if ( !options.keepStorage ) {
		window.sessionStorage.clear();
	}
	if ( !options.keepStorage && !options.keepOutbox ) {
		window.localStorage.clear();
	}
	mw.config.values = Object.create( null );
	mw.config.set( Object.assign( {}, MW_CONFIG, options.config || {} ) );
	window.wikiSuggestConfig = options.settings;
	window.fetch = options.fetch || fakeFetch( () => {
		throw new Error( 'unexpected request' );
	} );
	installTextSelection();
	delete mw.libs.wikiSuggest;
	vm.runInThisContext( source, { filename: 'gadget/dist/wiki-suggest.js' } );
	// The gadget starts on document ready, which jQuery runs later: not yet.
	Object.assign( mw.libs.wikiSuggest.Outbox.prototype, options.outbox || {} );
	return mw.libs.wikiSuggest.startup;
}

/**
 * Let pending promise callbacks (fetch mocks, decision posts) run.
 *
 * @return {Promise}
 */
function settle() {
	return new Promise( ( resolve ) => {
		setTimeout( resolve, 0 );
	} );
}

function textbox() {
	return document.getElementById( 'wpTextbox1' );
}

function items() {
	return Array.from( document.querySelectorAll( '#wiki-suggest-panel .wiki-suggest-item' ) );
}

/**
 * Submit the edit form the way a click on one of its buttons does; the navigation itself
 * is cancelled by a listener added after the gadget's.
 *
 * @param {string} buttonId wpSave, wpPreview or wpDiff
 */
function submitWith( buttonId ) {
	const form = document.getElementById( 'editform' );
	form.addEventListener( 'submit', ( e ) => e.preventDefault(), { once: true } );
	form.requestSubmit( document.getElementById( buttonId ) );
}

module.exports = {
	EDIT_PAGE,
	VIEW_PAGE,
	MW_CONFIG,
	REASONS,
	suggestionsResponse,
	category,
	fakeFetch,
	fakeService,
	batchAnswer,
	batches,
	gadgetSource,
	loadGadget,
	settle,
	textbox,
	items,
	submitWith
};

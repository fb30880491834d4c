/**
 * wiki-suggest: machine-suggested categories and references in the source editor and in
 * VisualEditor.
 *
 * The gadget asks the wiki-suggest service for suggestions about the page being edited, shows
 * them above the edit box (in VisualEditor, above the document: visual.js) and lets the editor
 * add, reject or skip each one. It never saves:
 * the editor reviews the change and saves it as usual. Every decision goes into an outbox in
 * localStorage and is sent to the service at once; what the service could not store yet is
 * sent again later (on this page or a later one). After a save the accepted suggestion ids are
 * reported together with the new revision id, so that the service can verify them.
 *
 * Written in ES5 on purpose: MediaWiki 1.39 validates gadget scripts as ES5.
 * gadget/build.mjs embeds the messages of gadget/i18n/ and writes gadget/dist/wiki-suggest.js.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
( function () {
	'use strict';

	var VERSION = '0.0.0-dev'; // build:version
	var MESSAGES = {}; // build:messages

	var TOOL_PAGE = 'https://wiki-suggest.toolforge.org/toolcard';
	var KNOWN_TASKS = [ 'categories', 'references' ];
	var STORAGE_KEY = 'wikiSuggest-pending';
	// An accepted suggestion carried across a save is reported only within this time.
	var STORAGE_MAX_AGE = 60 * 60 * 1000;
	var SUMMARY_MAX_LENGTH = 500;
	var DEFAULTS = {
		backend: 'https://wiki-suggest.toolforge.org',
		tasks: [ 'categories' ],
		namespaces: [ 0 ],
		summaryMarker: '$1 (suggested by [[toolforge:wiki-suggest|wiki-suggest]])',
		summaryReference: '+ref',
		timeout: 15000
	};
	var DEFAULT_REASONS = [ 'wrong_topic', 'too_general', 'too_specific', 'already_covered', 'other' ];
	var DECISIONS = [ 'accept', 'reject', 'skip' ];
	var COMMENT_MAX_LENGTH = 500;

	// The decision outbox (see Outbox).
	var OUTBOX_KEY = 'wiki-suggest-outbox';
	// A decision the service could not store within a week is dropped.
	var OUTBOX_MAX_AGE = 7 * 24 * 60 * 60 * 1000;
	var BATCH_PATH = '/api/v1/decisions/batch';
	// Decisions in one request: the service's MAX_BATCH.
	var BATCH_MAX = 20;
	// The service refuses bodies of 16 kB and more (413); a request stays well under that.
	var BATCH_MAX_BYTES = 12000;
	// Entries another tab is sending are left alone this long (then that tab is taken to be gone).
	var CLAIM_TIME = 30 * 1000;
	// Retries without Retry-After: after 2 s, doubling up to 5 minutes.
	var RETRY_FIRST = 2000;
	var RETRY_MAX = 5 * 60 * 1000;

	// Tickets from the tool's account confirmation (see readTickets()).
	var TICKET_KEY = 'wiki-suggest-ticket';
	// A ticket is sent only while it has more than this left to run.
	var TICKET_MARGIN = 60 * 60 * 1000;

	/* ------------------------------------------------------------------ utilities */

	function hasOwn( obj, key ) {
		return Object.prototype.hasOwnProperty.call( obj, key );
	}

	function isPlainObject( value ) {
		return value !== null && typeof value === 'object' && !Array.isArray( value );
	}

	function contains( list, value ) {
		return list.indexOf( value ) !== -1;
	}

	/* ------------------------------------------------------------------ messages */

	/**
	 * Pick the message language: the user's language, its base code, then English.
	 *
	 * @param {string} [userLanguage]
	 * @return {string}
	 */
	function pickLanguage( userLanguage ) {
		var lang = String( userLanguage || 'en' ).toLowerCase();
		if ( hasOwn( MESSAGES, lang ) ) {
			return lang;
		}
		lang = lang.split( '-' )[ 0 ];
		return hasOwn( MESSAGES, lang ) ? lang : 'en';
	}

	/**
	 * Look up a message and replace $1, $2, … with the parameters.
	 * Falls back to English per message, so a partial translation still works.
	 * The result is plain text: callers put it into the DOM with .text().
	 *
	 * @param {string} key Message key without the "wiki-suggest-" prefix
	 * @param {...string} [params]
	 * @return {string}
	 */
	function msg( key ) {
		var params = Array.prototype.slice.call( arguments, 1 ),
			fullKey = 'wiki-suggest-' + key,
			lang = pickLanguage( mw.config.get( 'wgUserLanguage' ) ),
			text, english = false;
		if ( MESSAGES[ lang ] && hasOwn( MESSAGES[ lang ], fullKey ) ) {
			text = MESSAGES[ lang ][ fullKey ];
			english = lang === 'en';
		} else if ( MESSAGES.en && hasOwn( MESSAGES.en, fullKey ) ) {
			text = MESSAGES.en[ fullKey ];
			english = true;
		} else {
			return '\u29FC' + fullKey + '\u29FD';
		}
		return text.replace( /\{\{PLURAL:\$(\d+)\|([^{}]*)\}\}/g, function ( match, n, forms ) {
			return pluralForm( Number( params[ Number( n ) - 1 ] ), forms.split( '|' ), english );
		} ).replace( /\$(\d+)/g, function ( match, n ) {
			var value = params[ Number( n ) - 1 ];
			return value === undefined ? match : String( value );
		} );
	}

	/**
	 * The form of {{PLURAL:$n|...}} for a number: by the user language's rules where
	 * mediawiki.language has them, else, and for an English text shown in its place (a message
	 * the user language lacks), the English rule (one, other).
	 *
	 * @param {number} count
	 * @param {string[]} forms
	 * @param {boolean} [english] The forms are English ones
	 * @return {string}
	 */
	function pluralForm( count, forms, english ) {
		if ( !english && mw.language && typeof mw.language.convertPlural === 'function' ) {
			return mw.language.convertPlural( count, forms );
		}
		return count === 1 ? forms[ 0 ] : forms[ Math.min( 1, forms.length - 1 ) ];
	}

	/**
	 * The explanation in the user's language when the service sent its numbers ("evidence"),
	 * else the service's English text.
	 *
	 * @param {Object} suggestion
	 * @return {string}
	 */
	function explanationText( suggestion ) {
		var evidence = suggestion.evidence, parts = [];
		function pair( value ) {
			return Array.isArray( value ) && value.length === 2 &&
				typeof value[ 0 ] === 'number' && typeof value[ 1 ] === 'number';
		}
		if ( isPlainObject( evidence ) ) {
			if ( pair( evidence.linked ) ) {
				parts.push( msg( 'evidence-linked', evidence.linked[ 0 ], evidence.linked[ 1 ] ) );
			}
			if ( pair( evidence.similar ) ) {
				parts.push( msg( 'evidence-similar', evidence.similar[ 0 ], evidence.similar[ 1 ] ) );
			}
		}
		if ( parts.length ) {
			return parts.join( '; ' );
		}
		return typeof suggestion.explanation === 'string' ? suggestion.explanation : '';
	}

	/**
	 * Whether a message exists in English (used for optional, per-id messages).
	 *
	 * @param {string} key
	 * @return {boolean}
	 */
	function hasMsg( key ) {
		return !!MESSAGES.en && hasOwn( MESSAGES.en, 'wiki-suggest-' + key );
	}

	/* ------------------------------------------------------------------ settings */

	/**
	 * Only an http(s) origin with an optional path is accepted as the service address;
	 * anything else (javascript:, data:, relative paths) falls back to the default.
	 *
	 * @param {*} value
	 * @return {string|null}
	 */
	function normaliseBackend( value ) {
		if ( typeof value !== 'string' ) {
			return null;
		}
		value = value.trim().replace( /\/+$/, '' );
		return /^https?:\/\/[^\s/?#@]+(\/[^\s?#]*)?$/i.test( value ) ? value : null;
	}

	/**
	 * Settings: the defaults, then the JSON user option "userjs-wiki-suggest",
	 * then window.wikiSuggestConfig (usually set in the user's common.js).
	 *
	 * @return {Object}
	 */
	function readConfig() {
		var config = {}, sources = [], backends = [ DEFAULTS.backend ], fromOption, key, i, backend;
		for ( key in DEFAULTS ) {
			config[ key ] = DEFAULTS[ key ];
		}
		try {
			fromOption = JSON.parse( mw.user.options.get( 'userjs-wiki-suggest' ) || 'null' );
		} catch ( e ) {
			fromOption = null;
		}
		sources.push( fromOption, window.wikiSuggestConfig );
		for ( i = 0; i < sources.length; i++ ) {
			if ( isPlainObject( sources[ i ] ) ) {
				for ( key in DEFAULTS ) {
					if ( hasOwn( sources[ i ], key ) ) {
						config[ key ] = sources[ i ][ key ];
					}
				}
				if ( hasOwn( sources[ i ], 'backend' ) ) {
					// An invalid address leaves the previous layer's in force.
					backend = normaliseBackend( sources[ i ].backend );
					if ( !backend ) {
						mw.log.warn( 'wiki-suggest: ignoring invalid backend setting' );
					}
					config.backend = backend || backends[ backends.length - 1 ];
					backends.push( config.backend );
				}
			}
		}
		config.tasks = ( Array.isArray( config.tasks ) ? config.tasks : DEFAULTS.tasks )
			.filter( function ( task ) {
				return contains( KNOWN_TASKS, task );
			} );
		config.namespaces = ( Array.isArray( config.namespaces ) ?
			config.namespaces : DEFAULTS.namespaces ).map( Number );
		if ( typeof config.summaryMarker !== 'string' ) {
			config.summaryMarker = DEFAULTS.summaryMarker;
		}
		if ( typeof config.summaryReference !== 'string' ) {
			config.summaryReference = DEFAULTS.summaryReference;
		}
		config.timeout = Number( config.timeout ) > 0 ? Number( config.timeout ) : DEFAULTS.timeout;
		return config;
	}

	/* ------------------------------------------------------------------ service client */

	function userAgent() {
		return 'wiki-suggest-gadget/' + VERSION + ' (' + TOOL_PAGE + ')';
	}

	/**
	 * Client for the wiki-suggest HTTP API. Requests carry no cookies; the gadget
	 * identifies itself with Api-User-Agent (browsers don't let scripts set User-Agent).
	 *
	 * @class
	 * @param {string} base Service address without trailing slash
	 * @param {number} timeout Milliseconds
	 */
	function Client( base, timeout ) {
		this.base = base;
		this.timeout = timeout;
	}

	/**
	 * The seconds a response asks the client to wait (Retry-After: seconds or an HTTP date).
	 * A browser lets a script read the header of a cross-origin response only when the service
	 * exposes it (Access-Control-Expose-Headers); otherwise this is null.
	 *
	 * @param {Response} response
	 * @return {number|null}
	 */
	function retryAfterSeconds( response ) {
		var value = response.headers && typeof response.headers.get === 'function' ?
				response.headers.get( 'Retry-After' ) : null,
			date;
		if ( typeof value !== 'string' || !value.trim() ) {
			return null;
		}
		if ( /^\s*\d+\s*$/.test( value ) ) {
			return Number( value );
		}
		date = Date.parse( value );
		return isNaN( date ) ? null : Math.max( 0, ( date - Date.now() ) / 1000 );
	}

	/**
	 * @param {string} method
	 * @param {string} path
	 * @param {Object} [body] Sent as JSON
	 * @param {Object} [options]
	 * @param {boolean} [options.keepalive] Let the request outlive the page (fetch keepalive;
	 *  then it is not aborted after the timeout)
	 * @return {Promise<{status: number, ok: boolean, data: *, retryAfter: (number|null)}>}
	 *  Rejects on network errors (and the timeout) only
	 */
	Client.prototype.request = function ( method, path, body, options ) {
		var headers = { 'Api-User-Agent': userAgent() },
			init = { method: method, headers: headers, credentials: 'omit', mode: 'cors' },
			keepalive = !!( options && options.keepalive ),
			controller = typeof window.AbortController === 'function' && !keepalive ?
				new window.AbortController() : null,
			timer;
		if ( body !== undefined ) {
			headers[ 'Content-Type' ] = 'application/json';
			init.body = JSON.stringify( body );
		}
		if ( keepalive ) {
			init.keepalive = true;
		}
		if ( controller ) {
			init.signal = controller.signal;
			timer = setTimeout( function () {
				controller.abort();
			}, this.timeout );
		}
		return window.fetch( this.base + path, init ).then( function ( response ) {
			return response.text().then( function ( text ) {
				var data = null;
				try {
					data = text ? JSON.parse( text ) : null;
				} catch ( e ) {}
				clearTimeout( timer );
				return {
					status: response.status,
					ok: response.ok,
					data: data,
					retryAfter: retryAfterSeconds( response )
				};
			} );
		}, function ( error ) {
			clearTimeout( timer );
			throw error;
		} );
	};

	/**
	 * @param {string} wiki
	 * @param {{title: (string|undefined), revid: (number|undefined)}} page A title (its latest
	 *  revision) or a revision
	 * @param {string} task
	 * @param {string|null} user
	 * @return {Promise<{status: number, ok: boolean, data: *, retryAfter: (number|null)}>}
	 */
	Client.prototype.getSuggestions = function ( wiki, page, task, user ) {
		var params = { wiki: wiki, task: task };
		if ( page.revid ) {
			params.revid = page.revid;
		} else {
			params.title = page.title;
		}
		if ( user ) {
			// Lets the service apply the wiki's daily per-user cap.
			params.user = user;
		}
		return this.request( 'GET', '/api/v1/suggestions?' + $.param( params ) );
	};

	/**
	 * The suggestions of each task for the page being edited, as the current user; a task whose
	 * request fails on the network comes back as `{ok: false, status: 0}`. Asked for the
	 * revision being edited: the service may have looked up a title's latest revision up to a
	 * minute before, so right after a save it could answer for the revision before.
	 *
	 * @param {string[]} tasks
	 * @return {Promise<Array<{task: string, status: number, ok: boolean, data: *}>>}
	 */
	Client.prototype.getPageSuggestions = function ( tasks ) {
		var client = this, revid = mw.config.get( 'wgCurRevisionId' ),
			page = revid ? { revid: revid } : { title: mw.config.get( 'wgPageName' ) };
		return Promise.all( tasks.map( function ( task ) {
			return client.getSuggestions( mw.config.get( 'wgDBname' ), page, task, mw.config.get( 'wgUserName' ) )
				.then( function ( response ) {
					response.task = task;
					return response;
				}, function () {
					return { task: task, ok: false, status: 0, data: null };
				} );
		} ) );
	};

	/**
	 * @param {{user: (string|undefined), ticket: (string|undefined), decisions: Object[]}} body
	 * @param {Object} [options] As for request()
	 * @return {Promise<{status: number, ok: boolean, data: *, retryAfter: (number|null)}>}
	 */
	Client.prototype.postDecisions = function ( body, options ) {
		return this.request( 'POST', BATCH_PATH, body, options );
	};

	Client.prototype.postEdit = function ( body ) {
		return this.request( 'POST', '/api/v1/edits', body );
	};

	/* ------------------------------------------------------------------ account confirmation */

	/**
	 * The tickets of the tool's account confirmation (see Panel.prototype.confirm()): localStorage
	 * key TICKET_KEY holds `{<user name>: {user, ticket, expires}}`, by user name as MediaWiki
	 * spells it (normaliseTitle()), expires in seconds since the epoch.
	 *
	 * @param {Object} storage mw.storage, or an object with the same get/set/remove
	 * @return {Object<string, Object>}
	 */
	function readTickets( storage ) {
		var tickets;
		try {
			tickets = JSON.parse( storage.get( TICKET_KEY ) || '{}' );
		} catch ( e ) {
			tickets = null;
		}
		return isPlainObject( tickets ) ? tickets : {};
	}

	/**
	 * @param {Object} tickets From readTickets()
	 * @param {string} user
	 * @param {number} now Milliseconds since the epoch
	 * @return {string|null} The user's ticket, while it has more than TICKET_MARGIN left to run
	 */
	function validTicket( tickets, user, now ) {
		var key = normaliseTitle( user ), record = hasOwn( tickets, key ) ? tickets[ key ] : null;
		return isPlainObject( record ) && typeof record.ticket === 'string' && record.ticket &&
			typeof record.expires === 'number' && record.expires * 1000 - TICKET_MARGIN > now ?
			record.ticket : null;
	}

	/**
	 * @param {Object} storage As for readTickets()
	 * @param {string|null} user
	 * @param {number} now Milliseconds since the epoch
	 * @return {string|null} The stored ticket of exactly this user, if it is still good
	 */
	function ticketFor( storage, user, now ) {
		return user ? validTicket( readTickets( storage ), user, now ) : null;
	}

	/**
	 * Store a user's ticket (in place of the one before), and drop those run out.
	 *
	 * @param {Object} storage As for readTickets()
	 * @param {{user: string, ticket: string, expires: number}} record
	 * @param {number} now Milliseconds since the epoch
	 * @return {boolean} Whether it was stored
	 */
	function storeTicket( storage, record, now ) {
		var tickets = readTickets( storage ), key;
		for ( key in tickets ) {
			if ( hasOwn( tickets, key ) && !validTicket( tickets, key, now ) ) {
				delete tickets[ key ];
			}
		}
		tickets[ normaliseTitle( record.user ) ] = record;
		return storage.set( TICKET_KEY, JSON.stringify( tickets ) );
	}

	/**
	 * Forget a ticket the service refused (unless another one was stored since).
	 *
	 * @param {Object} storage As for readTickets()
	 * @param {string} user
	 * @param {string} ticket
	 */
	function dropTicket( storage, user, ticket ) {
		var tickets = readTickets( storage ), key = normaliseTitle( user );
		if ( hasOwn( tickets, key ) && isPlainObject( tickets[ key ] ) && tickets[ key ].ticket === ticket ) {
			delete tickets[ key ];
			if ( Object.keys( tickets ).length ) {
				storage.set( TICKET_KEY, JSON.stringify( tickets ) );
			} else {
				storage.remove( TICKET_KEY );
			}
		}
	}

	// build:include outbox.js

	// build:include positions.js

	/* ------------------------------------------------------------------ editing surfaces */

	/**
	 * Surface adapter for the source editor's textarea. jquery.textSelection works whether
	 * the textarea is plain, wrapped by WikiEditor, or replaced by CodeEditor/CodeMirror.
	 * A VisualEditor adapter would offer the same three methods (see gadget/README.md).
	 *
	 * @param {jQuery} $textarea
	 * @return {{getText: Function, setText: Function, replace: Function}}
	 */
	function createTextareaSurface( $textarea ) {
		return {
			getText: function () {
				return $textarea.textSelection( 'getContents' );
			},
			setText: function ( text ) {
				var scrollTop = $textarea.scrollTop();
				$textarea.textSelection( 'setContents', text );
				$textarea.scrollTop( scrollTop );
				$textarea.trigger( 'input' );
			},
			/**
			 * @param {number} start
			 * @param {number} length Characters to remove at start
			 * @param {string} text To insert at start
			 */
			replace: function ( start, length, text ) {
				var current = this.getText();
				this.setText( current.slice( 0, start ) + text + current.slice( start + length ) );
			},
			/**
			 * Select a range and bring it into view (the edit box takes the focus).
			 *
			 * @param {number} start
			 * @param {number} end
			 */
			select: function ( start, end ) {
				$textarea.trigger( 'focus' );
				$textarea.textSelection( 'setSelection', { start: start, end: end } );
				$textarea.textSelection( 'scrollToCaretPosition' );
			}
		};
	}

	/* ------------------------------------------------------------------ storage across saves */

	function readStored() {
		var record;
		try {
			record = JSON.parse( mw.storage.session.get( STORAGE_KEY ) || 'null' );
		} catch ( e ) {
			return null;
		}
		if ( !isPlainObject( record ) || !Array.isArray( record.items ) ||
			typeof record.ts !== 'number' || Date.now() - record.ts > STORAGE_MAX_AGE
		) {
			return null;
		}
		return record;
	}

	function writeStored( record ) {
		mw.storage.session.set( STORAGE_KEY, JSON.stringify( record ) );
	}

	function clearStored() {
		mw.storage.session.remove( STORAGE_KEY );
	}

	function isStoredForThisPage( record ) {
		return !!record && record.wiki === mw.config.get( 'wgDBname' ) &&
			record.page === mw.config.get( 'wgPageName' );
	}

	/* ------------------------------------------------------------------ edit summary */

	/**
	 * The summary marker for the accepted suggestions, e.g.
	 * "+[[Category:X]] (suggested by [[toolforge:wiki-suggest|wiki-suggest]])".
	 *
	 * @param {Object} config
	 * @param {Object[]} suggestions Accepted suggestions
	 * @return {string}
	 */
	function summaryMarker( config, suggestions ) {
		var items = suggestions.map( function ( suggestion ) {
			if ( suggestion.insert && suggestion.insert.kind === 'reference' ) {
				return config.summaryReference;
			}
			return '+' + String( suggestion.wikitext ).replace( /\s+/g, ' ' );
		} );
		return config.summaryMarker.replace( /\$1/g, function () {
			return items.join( ', ' );
		} );
	}

	/**
	 * Append the marker to a summary unless it is already there (a failed save shows the
	 * form again with the summary as sent). A marker too long for the summary is shortened.
	 *
	 * @param {string} summary
	 * @param {string} marker
	 * @param {string} shortMarker Used when summary + marker would be too long
	 * @return {string}
	 */
	function appendMarker( summary, marker, shortMarker ) {
		var base = String( summary || '' ).replace( /\s+$/, '' );
		if ( base.indexOf( marker ) !== -1 || ( shortMarker && base.indexOf( shortMarker ) !== -1 ) ) {
			return base;
		}
		if ( shortMarker && ( base + ' ' + marker ).length > SUMMARY_MAX_LENGTH ) {
			marker = shortMarker;
		}
		return base ? base + ' ' + marker : marker;
	}

	// build:include panel.js

	// build:include visual.js

	/* ------------------------------------------------------------------ entry points */

	/**
	 * Whether the form submission saves the page (not preview or diff). Uses the submitter
	 * of the event where the browser reports it, else the submit button clicked last.
	 *
	 * @param {Event} event
	 * @param {Element|null} lastClicked
	 * @return {boolean}
	 */
	function isSaveSubmit( event, lastClicked ) {
		var submitter = ( event.originalEvent && event.originalEvent.submitter ) || lastClicked;
		return !submitter || submitter.id === 'wpSave' || submitter.name === 'wpSave';
	}

	/**
	 * Whether the page has suggestions to edit in: a saved page (the service suggests for a
	 * saved revision, not a page being created) that is not a redirect (the service answers for
	 * the page it leads to, whose categories and references do not belong in the redirect).
	 * Both editors ask this; each also takes whole-page edits only.
	 *
	 * @return {boolean}
	 */
	function isSavedArticle() {
		return !!mw.config.get( 'wgCurRevisionId' ) && !mw.config.get( 'wgIsRedirect' );
	}

	/**
	 * The panel on an edit page.
	 *
	 * @param {Object} config From readConfig()
	 * @param {Outbox} outbox
	 * @return {Promise<Panel|null>}
	 */
	function startEditor( config, outbox ) {
		var $textarea = $( '#wpTextbox1' ),
			$form = $( '#editform' ),
			$anchor, surface, panel, client, stored, carried = [], decided = [], lastClicked = null;
		if ( !$textarea.length || !$form.length || !isSavedArticle() ||
			// Only whole-page edits: categories and references belong to the whole text.
			$form.find( 'input[name="wpSection"]' ).val() ||
			mw.util.getParamValue( 'section' )
		) {
			return Promise.resolve( null );
		}
		stored = readStored();
		if ( isStoredForThisPage( stored ) && mw.config.get( 'wgAction' ) === 'submit' ) {
			// Back from a preview, a diff or a failed save: the text still holds the insertions.
			carried = stored.items.filter( function ( record ) {
				return isPlainObject( record ) && isPlainObject( record.suggestion ) &&
					isPlainObject( record.plan );
			} );
			decided = ( Array.isArray( stored.decided ) ? stored.decided : [] ).filter( function ( record ) {
				return isPlainObject( record ) && isPlainObject( record.suggestion ) &&
					typeof record.suggestion.id === 'string' && typeof record.suggestion.wikitext === 'string' &&
					contains( [ 'rejected', 'skipped' ], record.state );
			} );
		} else if ( stored ) {
			clearStored();
		}

		client = new Client( config.backend, config.timeout );
		surface = createTextareaSurface( $textarea );
		panel = new Panel( config, surface, client, outbox );
		if ( carried.length && typeof stored.marker === 'string' ) {
			// A failed save shows the summary as sent, with the marker of that attempt in it.
			panel.sentMarker = stored.marker;
		}
		$anchor = $textarea.closest( '.wikiEditor-ui' );
		( $anchor.length ? $anchor : $textarea ).before( panel.$panel );

		$form.on( 'click', 'input[type="submit"], button[type="submit"]', function () {
			lastClicked = this;
		} );
		$form.on( 'submit', function ( e ) {
			panel.onSubmit( isSaveSubmit( e, lastClicked ) );
		} );

		return client.getPageSuggestions( config.tasks ).then( function ( results ) {
			panel.render( results, carried, decided );
			return panel;
		} );
	}

	/**
	 * On the page view after a save, report the accepted suggestions with the new revision
	 * (after the outbox has sent what it can: the service links only stored acceptances). The
	 * record of the save stays for the next view of the page (within STORAGE_MAX_AGE) while the
	 * service could not take the report.
	 *
	 * @param {Object} config From readConfig()
	 * @param {Outbox} outbox
	 * @return {Promise<boolean>} Whether the service has the report (or refused it for good)
	 */
	function reportSavedEdit( config, outbox ) {
		var stored = readStored(),
			revid = mw.config.get( 'wgCurRevisionId' ) || mw.config.get( 'wgRevisionId' ),
			ids;
		if ( !isStoredForThisPage( stored ) || !stored.saved ) {
			return Promise.resolve( false );
		}
		if ( !revid || !( mw.config.get( 'wgPostEdit' ) || revid > stored.baseRevid ) ) {
			// Viewing the page without a new revision: the save didn't happen.
			clearStored();
			return Promise.resolve( false );
		}
		ids = stored.items.map( function ( record ) {
			return record.suggestion && record.suggestion.id;
		} ).filter( function ( id ) {
			return typeof id === 'string';
		} );
		if ( !ids.length ) {
			// Saved with nothing accepted (only rejections or skips): nothing to link.
			clearStored();
			return Promise.resolve( false );
		}
		return outbox.flush().then( function () {
			return new Client( config.backend, config.timeout ).postEdit( {
				// eslint-disable-next-line camelcase
				suggestion_ids: ids,
				revid: revid,
				user: mw.config.get( 'wgUserName' )
			} );
		} ).then( function ( response ) {
			if ( response.status === 429 || response.status >= 500 ||
				( response.status === 409 && outbox.holds( ids ) ) ) {
				// Not linked yet (the service is down or busy, or the accepted decisions are
				// still waiting in the outbox): the next view of the page tries again.
				return false;
			}
			clearStored();
			return true;
		}, function () {
			// Network error: keep the record, the next view of the page tries again.
			return false;
		} );
	}

	/**
	 * Wait for the user's own scripts (common.js sets window.wikiSuggestConfig).
	 *
	 * @return {Promise}
	 */
	function userScriptsLoaded() {
		var state = mw.loader.getState( 'user' );
		if ( !state || state === 'ready' || state === 'error' || state === 'missing' ) {
			return Promise.resolve();
		}
		return new Promise( function ( resolve ) {
			mw.loader.using( 'user' ).always( resolve );
		} );
	}

	function main() {
		var action = mw.config.get( 'wgAction' );
		if ( !contains( [ 'view', 'edit', 'submit' ], action ) ) {
			return Promise.resolve( null );
		}
		return userScriptsLoaded().then( function () {
			var config = readConfig(),
				outbox = new Outbox( { timeout: config.timeout } );
			// On every page view: decisions left by earlier pages are sent now.
			mw.libs.wikiSuggest.outbox = outbox;
			outbox.start();
			if ( !mw.config.get( 'wgUserName' ) || mw.config.get( 'wgPageContentModel' ) !== 'wikitext' ) {
				return null;
			}
			if ( !config.tasks.length || !contains( config.namespaces, mw.config.get( 'wgNamespaceNumber' ) ) ) {
				return action === 'view' ? reportSavedEdit( config, outbox ) : null;
			}
			if ( action === 'view' ) {
				// VisualEditor opens on the page view, and saves without leaving it.
				mw.libs.wikiSuggest.visual = followVisualEditor( config, outbox );
				return reportSavedEdit( config, outbox );
			}
			return startEditor( config, outbox );
		} );
	}

	mw.libs.wikiSuggest = {
		version: VERSION,
		msg: msg,
		pickLanguage: pickLanguage,
		readConfig: readConfig,
		normaliseBackend: normaliseBackend,
		planInsertion: planInsertion,
		applyInsertion: applyInsertion,
		undoInsertion: undoInsertion,
		referenceInText: referenceInText,
		lastCategoryEnd: lastCategoryEnd,
		hasCategory: hasCategory,
		summaryMarker: summaryMarker,
		appendMarker: appendMarker,
		createTextareaSurface: createTextareaSurface,
		createVisualSurface: createVisualSurface,
		createSourceModeSurface: createSourceModeSurface,
		Client: Client,
		Panel: Panel,
		Outbox: Outbox,
		// The running Outbox, once started (see main()).
		outbox: null,
		// The VisualEditor session of a page view (see followVisualEditor()).
		visual: null,
		startup: new Promise( function ( resolve ) {
			$( function () {
				resolve( main() );
			} );
		} )
	};
}() );

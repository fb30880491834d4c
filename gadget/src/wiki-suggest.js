/**
 * wiki-suggest: machine-suggested categories and references in the source editor.
 *
 * The gadget asks the wiki-suggest service for suggestions about the page being edited, shows
 * them above the edit box and lets the editor add, reject or skip each one. It never saves:
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
			text;
		if ( MESSAGES[ lang ] && hasOwn( MESSAGES[ lang ], fullKey ) ) {
			text = MESSAGES[ lang ][ fullKey ];
		} else if ( MESSAGES.en && hasOwn( MESSAGES.en, fullKey ) ) {
			text = MESSAGES.en[ fullKey ];
		} else {
			return '\u29FC' + fullKey + '\u29FD';
		}
		return text.replace( /\{\{PLURAL:\$(\d+)\|([^{}]*)\}\}/g, function ( match, n, forms ) {
			return pluralForm( Number( params[ Number( n ) - 1 ] ), forms.split( '|' ) );
		} ).replace( /\$(\d+)/g, function ( match, n ) {
			var value = params[ Number( n ) - 1 ];
			return value === undefined ? match : String( value );
		} );
	}

	/**
	 * The form of {{PLURAL:$n|...}} for a number: by the user language's rules where
	 * mediawiki.language has them, else the English rule (one, other).
	 *
	 * @param {number} count
	 * @param {string[]} forms
	 * @return {string}
	 */
	function pluralForm( count, forms ) {
		if ( mw.language && typeof mw.language.convertPlural === 'function' ) {
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

	Client.prototype.getSuggestions = function ( wiki, title, task, user ) {
		var params = { wiki: wiki, title: title, task: task };
		if ( user ) {
			// Lets the service apply the wiki's daily per-user cap.
			params.user = user;
		}
		return this.request( 'GET', '/api/v1/suggestions?' + $.param( params ) );
	};

	/**
	 * @param {{user: (string|undefined), decisions: Object[]}} body
	 * @param {Object} [options] As for request()
	 * @return {Promise<{status: number, ok: boolean, data: *, retryAfter: (number|null)}>}
	 */
	Client.prototype.postDecisions = function ( body, options ) {
		return this.request( 'POST', BATCH_PATH, body, options );
	};

	Client.prototype.postEdit = function ( body ) {
		return this.request( 'POST', '/api/v1/edits', body );
	};

	/* ------------------------------------------------------------------ decision outbox */

	/**
	 * Bytes of a string in UTF-8 (what the service counts against its body limit).
	 *
	 * @param {string} text
	 * @return {number}
	 */
	function utf8Length( text ) {
		var bytes = 0, i, code;
		for ( i = 0; i < text.length; i++ ) {
			code = text.charCodeAt( i );
			if ( code < 0x80 ) {
				bytes += 1;
			} else if ( code < 0x800 || ( code >= 0xD800 && code < 0xE000 ) ) {
				// Two bytes, and a surrogate pair's two halves are the four of its code point.
				bytes += 2;
			} else {
				bytes += 3;
			}
		}
		return bytes;
	}

	/**
	 * A decision as the batch endpoint takes it, or null when the stored one is not valid
	 * (only the known fields are copied: the service refuses a batch with any other).
	 *
	 * @param {*} body
	 * @return {{suggestion_id: string, decision: string, reason: (string|undefined), comment: (string|undefined)}|null}
	 */
	function decisionBody( body ) {
		var clean;
		if ( !isPlainObject( body ) || typeof body.suggestion_id !== 'string' || !body.suggestion_id ||
			!contains( DECISIONS, body.decision ) ||
			( body.decision === 'reject' ) !== ( typeof body.reason === 'string' ) ||
			( body.comment !== undefined && ( typeof body.comment !== 'string' ||
				body.comment.length > COMMENT_MAX_LENGTH ) )
		) {
			return null;
		}
		// eslint-disable-next-line camelcase
		clean = { suggestion_id: body.suggestion_id, decision: body.decision };
		if ( body.decision === 'reject' ) {
			clean.reason = body.reason;
		}
		if ( body.comment ) {
			clean.comment = body.comment;
		}
		return clean;
	}

	/**
	 * Whether a stored outbox entry can be sent (anything else in the key is dropped).
	 *
	 * @param {*} entry
	 * @return {boolean}
	 */
	function isOutboxEntry( entry ) {
		return isPlainObject( entry ) && typeof entry.id === 'string' && typeof entry.ts === 'number' &&
			( entry.user === null || ( typeof entry.user === 'string' && entry.user !== '' ) ) &&
			typeof entry.backend === 'string' && normaliseBackend( entry.backend ) === entry.backend &&
			decisionBody( entry.body ) !== null;
	}

	/**
	 * The decisions on their way to the service. Every decision is first written to
	 * localStorage (key OUTBOX_KEY, shared by the tabs of the wiki) as an entry
	 * `{id, body: {suggestion_id, decision, reason?, comment?}, user, backend, ts, tries, claim?}`
	 * and leaves it only when the service has answered for it for good: stored (201), or
	 * refused (409 already decided, 404, 400 ...). Whatever could not be stored yet (429, 5xx,
	 * a network error or timeout) stays and is sent again: after Retry-After when the answer
	 * says it (and the browser lets the script read it), else after 2 s, doubling up to 5
	 * minutes; on the next page view where the gadget runs; and once on `pagehide` with fetch
	 * keepalive. Entries older than a week are dropped.
	 *
	 * One request is in flight at a time. Decisions made meanwhile wait and go together in the
	 * next request: the oldest entries of one user and service, at most BATCH_MAX and at most
	 * BATCH_MAX_BYTES of JSON (halved after a 413).
	 *
	 * A sent entry may have been stored though its answer was lost (a timeout, a closed page): a
	 * later 409 for an entry that was sent before is therefore that earlier attempt's success,
	 * not news for the editor. Tabs share the key: a tab marks the entries it sends (`claim`)
	 * and other tabs leave them alone for CLAIM_TIME, so two tabs seldom send the same entry;
	 * when they do, the 409 is harmless. localStorage has no transactions: if two tabs write at
	 * the same moment one's change can be lost, so each tab writes back the entries it added
	 * itself and has no final answer for yet (sending one again costs at most a silent 409,
	 * losing one would lose a decision).
	 *
	 * Listeners (one per entry, on the page that made or shows the decision) hear the outcome:
	 * 'stored', 'already' (409 on the first attempt), 'failed' (refused for good) and
	 * 'retrying' (not stored yet, will be sent again; may come more than once).
	 *
	 * @class
	 * @param {Object} [options]
	 * @param {Object} [options.storage] Where entries are kept: mw.storage (localStorage) or an
	 *  object with the same get/set/remove
	 * @param {number} [options.timeout] Milliseconds before a request is aborted
	 * @param {Function} [options.now] Clock, instead of Outbox.prototype.now
	 * @param {Function} [options.schedule] Timer, instead of Outbox.prototype.schedule
	 * @param {Function} [options.cancel] Instead of Outbox.prototype.cancel
	 */
	function Outbox( options ) {
		options = options || {};
		this.storage = options.storage || mw.storage;
		this.timeout = options.timeout || DEFAULTS.timeout;
		if ( options.now ) {
			this.now = options.now;
		}
		if ( options.schedule ) {
			this.schedule = options.schedule;
		}
		if ( options.cancel ) {
			this.cancel = options.cancel;
		}
		// This page's name in claims.
		this.tab = this.now().toString( 36 ) + '-' + Math.random().toString( 36 ).slice( 2, 10 );
		// The entries, when localStorage is not available (or full): then they last as long as
		// the page.
		this.memory = null;
		this.changed = false;
		// Entries added on this page that have no final answer yet, by id.
		this.own = {};
		// Outcome listeners by entry id.
		this.listeners = {};
		this.clients = {};
		// The request in flight ({entries, body, backend, tries}), or null.
		this.inFlight = null;
		this.busy = false;
		this.done = Promise.resolve();
		// The scheduled retry, and when it is due.
		this.timer = null;
		this.retryAt = 0;
		// A look again when the entries another tab claimed are free again, and when that is.
		this.recheck = null;
		this.claimedUntil = 0;
		// The last backoff delay (0: the last request had an answer).
		this.delay = 0;
		// Entries per request: BATCH_MAX, less after a 413.
		this.limit = BATCH_MAX;
		this.handlers = null;
		this.stopped = false;
	}

	/**
	 * The clock.
	 *
	 * @return {number} Milliseconds since the epoch
	 */
	Outbox.prototype.now = function () {
		return Date.now();
	};

	/**
	 * Run a callback later (a retry).
	 *
	 * @param {Function} callback
	 * @param {number} ms
	 * @return {*} A handle for cancel()
	 */
	Outbox.prototype.schedule = function ( callback, ms ) {
		return setTimeout( callback, ms );
	};

	/**
	 * @param {*} handle From schedule()
	 */
	Outbox.prototype.cancel = function ( handle ) {
		clearTimeout( handle );
	};

	/**
	 * Start on a page view: drop old entries, send what is waiting from earlier pages, and
	 * listen to pagehide (a last send with keepalive), online and pageshow (from the
	 * back-forward cache: send now).
	 *
	 * @return {Promise} Resolves when nothing more can be sent for now (see flush())
	 */
	Outbox.prototype.start = function () {
		var outbox = this, name;
		this.update( function () {} );
		this.handlers = {
			pagehide: function () {
				outbox.sendOnPageHide();
			},
			online: function () {
				outbox.retryNow();
			},
			pageshow: function ( e ) {
				if ( e.persisted ) {
					outbox.retryNow();
				}
			}
		};
		for ( name in this.handlers ) {
			window.addEventListener( name, this.handlers[ name ] );
		}
		return this.flush();
	};

	/**
	 * Stop sending and listening (the entries stay in storage for the next page).
	 */
	Outbox.prototype.stop = function () {
		var name;
		this.stopped = true;
		if ( this.timer !== null ) {
			this.cancel( this.timer );
			this.timer = null;
		}
		if ( this.recheck !== null ) {
			this.cancel( this.recheck );
			this.recheck = null;
		}
		for ( name in this.handlers || {} ) {
			window.removeEventListener( name, this.handlers[ name ] );
		}
		this.handlers = null;
	};

	/**
	 * Put a decision into the outbox and send it (at once, or with the next request when one
	 * is in flight or a retry is due).
	 *
	 * @param {Object} body suggestion_id, decision, reason (reject only), comment (optional)
	 * @param {string|null} user The editor's user name
	 * @param {string} backend Service address (from readConfig())
	 * @param {Function} [listener] ( outcome, entryId ): 'stored', 'already', 'failed', 'retrying'
	 * @return {Promise} Resolves when nothing more can be sent for now (see flush())
	 */
	Outbox.prototype.add = function ( body, user, backend, listener ) {
		var now = this.now(),
			entry = {
				id: now.toString( 36 ) + '-' + Math.random().toString( 36 ).slice( 2, 10 ),
				body: decisionBody( body ),
				user: user || null,
				backend: backend,
				ts: now,
				tries: 0
			};
		if ( !isOutboxEntry( entry ) ) {
			// The service would refuse it (and with it the others of its request).
			mw.log.warn( 'wiki-suggest: not a valid decision', body );
			if ( listener ) {
				listener( 'failed', entry.id );
			}
			return Promise.resolve();
		}
		this.update( function ( list ) {
			list.push( entry );
		} );
		this.own[ entry.id ] = entry;
		if ( listener ) {
			this.listeners[ entry.id ] = listener;
			if ( this.timer !== null ) {
				// The service could not store the ones before: this one waits for the retry.
				this.tell( entry.id, 'retrying' );
			}
		}
		return this.flush();
	};

	/**
	 * Listen to the outcome of the entries of a suggestion that are already in the outbox
	 * (a decision carried over a preview, still waiting to be stored).
	 *
	 * @param {string} suggestionId
	 * @param {Function} listener As for add()
	 */
	Outbox.prototype.follow = function ( suggestionId, listener ) {
		var outbox = this;
		this.read().forEach( function ( entry ) {
			if ( entry.body.suggestion_id === suggestionId ) {
				outbox.listeners[ entry.id ] = listener;
				if ( outbox.timer !== null && entry.tries ) {
					outbox.tell( entry.id, 'retrying' );
				}
			}
		} );
	};

	/**
	 * The valid entries younger than a week, oldest first, with the entries this page added
	 * and has no final answer for (see the class comment). Sets this.changed when that is not
	 * what the storage holds.
	 *
	 * @return {Object[]}
	 */
	Outbox.prototype.read = function () {
		var outbox = this, now = this.now(), seen = {}, added = false, raw, list, count, id;
		if ( this.memory === null ) {
			raw = this.storage.get( OUTBOX_KEY );
			if ( raw === false ) {
				// No localStorage (disabled, or blocked by the browser's settings).
				this.memory = [];
			}
		}
		if ( this.memory !== null ) {
			list = this.memory.slice();
		} else {
			try {
				list = JSON.parse( raw || '[]' );
			} catch ( e ) {
				list = null;
			}
		}
		count = Array.isArray( list ) ? list.length : ( raw ? 1 : 0 );
		list = ( Array.isArray( list ) ? list : [] ).filter( function ( entry ) {
			if ( !isOutboxEntry( entry ) || now - entry.ts > OUTBOX_MAX_AGE || seen[ entry.id ] ) {
				return false;
			}
			seen[ entry.id ] = true;
			if ( hasOwn( outbox.own, entry.id ) ) {
				outbox.own[ entry.id ] = entry;
			}
			return true;
		} );
		for ( id in this.own ) {
			if ( now - this.own[ id ].ts > OUTBOX_MAX_AGE ) {
				delete this.own[ id ];
			} else if ( !seen[ id ] ) {
				list.push( this.own[ id ] );
				added = true;
			}
		}
		if ( added ) {
			list.sort( function ( a, b ) {
				return a.ts - b.ts;
			} );
		}
		this.changed = added || list.length !== count;
		return list;
	};

	/**
	 * @param {Object[]} list
	 */
	Outbox.prototype.write = function ( list ) {
		var written;
		if ( this.memory === null ) {
			written = list.length ?
				this.storage.set( OUTBOX_KEY, JSON.stringify( list ) ) :
				this.storage.remove( OUTBOX_KEY );
			if ( written ) {
				return;
			}
		}
		this.memory = list;
	};

	/**
	 * Read the entries, change them, write them back.
	 *
	 * @param {Function} change ( list ), changes the list in place
	 * @return {Object[]} The list as written
	 */
	Outbox.prototype.update = function ( change ) {
		var list = this.read();
		change( list );
		this.write( list );
		return list;
	};

	/**
	 * The next request to make: the oldest entries not claimed by another tab, of the first
	 * one's user and service, at most this.limit of them and at most BATCH_MAX_BYTES of JSON
	 * (always at least one). Sets this.claimedUntil when claimed entries were left out.
	 *
	 * @return {{entries: Object[], body: Object, backend: string, tries: Object<string, number>}|null}
	 */
	Outbox.prototype.take = function () {
		var outbox = this, now = this.now(), first = null, entries = [], full = false,
			list = this.read(), body, size;
		if ( this.changed ) {
			// Old entries dropped: gone from the storage too.
			this.write( list );
		}
		this.claimedUntil = 0;
		list.forEach( function ( entry ) {
			var claim = entry.claim;
			if ( isPlainObject( claim ) && claim.tab !== outbox.tab && typeof claim.ts === 'number' &&
				now - claim.ts < CLAIM_TIME
			) {
				// Another tab is sending it.
				outbox.claimedUntil = Math.max( outbox.claimedUntil, claim.ts + CLAIM_TIME );
				return;
			}
			first = first || entry;
			if ( entry.user === first.user && entry.backend === first.backend &&
				entries.length < outbox.limit
			) {
				entries.push( entry );
			}
		} );
		if ( !first ) {
			return null;
		}
		body = { decisions: [] };
		if ( first.user !== null ) {
			body.user = first.user;
		}
		size = utf8Length( JSON.stringify( body ) );
		entries = entries.filter( function ( entry ) {
			var decision = decisionBody( entry.body ),
				// The decision and the comma before the next one.
				bytes = utf8Length( JSON.stringify( decision ) ) + 1;
			full = full || ( body.decisions.length > 0 && size + bytes > BATCH_MAX_BYTES );
			if ( full ) {
				// This one and the younger ones go in a later request.
				return false;
			}
			body.decisions.push( decision );
			size += bytes;
			return true;
		} );
		return { entries: entries, body: body, backend: first.backend, tries: {} };
	};

	/**
	 * Count an attempt for the entries of a request (their `tries`), and claim them for this
	 * tab while the request is in flight.
	 *
	 * @param {Object} batch From take(); its `tries` gets each entry's count
	 * @param {boolean} claim
	 */
	Outbox.prototype.mark = function ( batch, claim ) {
		var outbox = this, now = this.now();
		batch.entries.forEach( function ( entry ) {
			batch.tries[ entry.id ] = ( entry.tries || 0 ) + 1;
		} );
		this.update( function ( list ) {
			list.forEach( function ( entry ) {
				if ( hasOwn( batch.tries, entry.id ) ) {
					entry.tries = Math.max( batch.tries[ entry.id ], ( entry.tries || 0 ) + 1 );
					batch.tries[ entry.id ] = entry.tries;
					if ( claim ) {
						entry.claim = { tab: outbox.tab, ts: now };
					}
				}
			} );
		} );
	};

	/**
	 * Remove the entries that have a final answer and release the claims of the others.
	 *
	 * @param {Object[]} entries The entries of a request
	 * @param {Object<string, string>} outcomes Final outcome by entry id ('stored', 'already',
	 *  'failed'); entries without one stay
	 */
	Outbox.prototype.settle = function ( entries, outcomes ) {
		var outbox = this;
		entries.forEach( function ( entry ) {
			if ( hasOwn( outcomes, entry.id ) ) {
				delete outbox.own[ entry.id ];
			}
		} );
		this.update( function ( list ) {
			var i;
			for ( i = list.length - 1; i >= 0; i-- ) {
				if ( hasOwn( outcomes, list[ i ].id ) ) {
					list.splice( i, 1 );
				} else if ( list[ i ].claim && list[ i ].claim.tab === outbox.tab ) {
					delete list[ i ].claim;
				}
			}
		} );
		entries.forEach( function ( entry ) {
			if ( hasOwn( outcomes, entry.id ) ) {
				outbox.tell( entry.id, outcomes[ entry.id ] );
				delete outbox.listeners[ entry.id ];
			}
		} );
	};

	/**
	 * Tell an entry's listener, if it has one on this page.
	 *
	 * @param {string} id
	 * @param {string} outcome
	 */
	Outbox.prototype.tell = function ( id, outcome ) {
		if ( hasOwn( this.listeners, id ) ) {
			try {
				this.listeners[ id ]( outcome, id );
			} catch ( e ) {
				mw.log.error( e );
			}
		}
	};

	/**
	 * @param {string} backend
	 * @return {Client}
	 */
	Outbox.prototype.client = function ( backend ) {
		if ( !hasOwn( this.clients, backend ) ) {
			this.clients[ backend ] = new Client( backend, this.timeout );
		}
		return this.clients[ backend ];
	};

	/**
	 * Send what is waiting, one request after the other, unless a request is in flight (its
	 * answer leads to the next) or a retry is due later.
	 *
	 * @return {Promise} Resolves when nothing more can be sent for now: the outbox is empty, a
	 *  retry is scheduled, or what is left is being sent by another tab
	 */
	Outbox.prototype.flush = function () {
		if ( !this.stopped && !this.busy && this.timer === null ) {
			this.busy = true;
			this.done = this.drain();
		}
		return this.done;
	};

	/**
	 * @private
	 * @return {Promise}
	 */
	Outbox.prototype.drain = function () {
		var outbox = this, batch = this.stopped ? null : this.take();
		if ( !batch ) {
			this.busy = false;
			if ( this.claimedUntil && this.recheck === null && !this.stopped ) {
				// Look again when the other tab's claim runs out (that tab may be gone).
				this.recheck = this.schedule( function () {
					outbox.recheck = null;
					outbox.flush();
				}, Math.max( 0, this.claimedUntil - this.now() ) + 100 );
			}
			return Promise.resolve();
		}
		return this.send( batch ).then( function ( more ) {
			if ( more && !outbox.stopped ) {
				return outbox.drain();
			}
			outbox.busy = false;
		}, function ( error ) {
			outbox.busy = false;
			outbox.inFlight = null;
			mw.log.error( error );
		} );
	};

	/**
	 * Send one request and deal with its answer.
	 *
	 * @private
	 * @param {Object} batch From take()
	 * @return {Promise<boolean>} Whether to go on with the next request at once
	 */
	Outbox.prototype.send = function ( batch ) {
		var outbox = this;
		this.mark( batch, true );
		this.inFlight = batch;
		return this.client( batch.backend ).postDecisions( batch.body ).then( function ( response ) {
			outbox.inFlight = null;
			return outbox.answer( batch, response );
		}, function () {
			// Network error or timeout: the decisions may or may not have been stored.
			outbox.inFlight = null;
			return outbox.retryLater( batch.entries, null );
		} );
	};

	/**
	 * Deal with the answer to a request.
	 *
	 * @private
	 * @param {Object} batch From take()
	 * @param {{status: number, data: *, retryAfter: (number|null)}} response
	 * @return {boolean} Whether to go on with the next request at once
	 */
	Outbox.prototype.answer = function ( batch, response ) {
		var status = response.status,
			results = isPlainObject( response.data ) ? response.data.results : null,
			outcomes = {}, kept = [];
		if ( status === 200 && Array.isArray( results ) && results.length === batch.entries.length ) {
			this.delay = 0;
			this.limit = BATCH_MAX;
			batch.entries.forEach( function ( entry, i ) {
				var code = isPlainObject( results[ i ] ) ? Number( results[ i ].status ) : 0;
				if ( code === 201 ) {
					outcomes[ entry.id ] = 'stored';
				} else if ( code === 409 ) {
					// On a retry, the earlier attempt was stored though its answer was lost.
					outcomes[ entry.id ] = batch.tries[ entry.id ] > 1 ? 'stored' : 'already';
				} else if ( code >= 400 && code < 500 && code !== 408 && code !== 429 ) {
					// 404 unknown_suggestion, 400 invalid_reason or wrong_wiki: final.
					outcomes[ entry.id ] = 'failed';
				} else {
					kept.push( entry );
				}
			} );
			this.settle( batch.entries, outcomes );
			return kept.length ? this.retryLater( kept, null ) : true;
		}
		if ( status === 413 && batch.entries.length > 1 ) {
			// Too large for the service: half as many per request until one goes through.
			this.limit = Math.max( 1, Math.floor( batch.entries.length / 2 ) );
			this.settle( batch.entries, {} );
			return true;
		}
		if ( status >= 400 && status < 500 && status !== 408 && status !== 429 ) {
			// Refused as a whole (400 invalid_body, 413 for a single decision, 415): final.
			this.delay = 0;
			batch.entries.forEach( function ( entry ) {
				outcomes[ entry.id ] = 'failed';
			} );
			this.settle( batch.entries, outcomes );
			return true;
		}
		// 429, 5xx (503: the service's database is down), or an answer that is not the batch
		// endpoint's: nothing or not everything was stored.
		return this.retryLater( batch.entries, response.retryAfter );
	};

	/**
	 * Keep the entries and schedule the next attempt: after Retry-After (at least a second,
	 * at most RETRY_MAX), or else after the next backoff delay. Every waiting decision shown on
	 * this page is told that it will be sent again.
	 *
	 * @private
	 * @param {Object[]} entries The entries of the request
	 * @param {number|null} retryAfter Seconds, from the answer
	 * @return {boolean} false: nothing more is sent now
	 */
	Outbox.prototype.retryLater = function ( entries, retryAfter ) {
		var outbox = this, delay;
		this.settle( entries, {} );
		if ( this.stopped ) {
			return false;
		}
		if ( typeof retryAfter === 'number' && isFinite( retryAfter ) ) {
			delay = Math.min( Math.max( retryAfter * 1000, 1000 ), RETRY_MAX );
		} else {
			delay = this.delay = this.delay ? Math.min( this.delay * 2, RETRY_MAX ) : RETRY_FIRST;
		}
		if ( this.timer !== null ) {
			this.cancel( this.timer );
		}
		this.retryAt = this.now() + delay;
		this.timer = this.schedule( function () {
			outbox.timer = null;
			outbox.flush();
		}, delay );
		this.read().forEach( function ( entry ) {
			outbox.tell( entry.id, 'retrying' );
		} );
		return false;
	};

	/**
	 * Send now, without waiting for a scheduled retry (the browser is online again).
	 *
	 * @return {Promise} As flush()
	 */
	Outbox.prototype.retryNow = function () {
		if ( this.timer !== null ) {
			this.cancel( this.timer );
			this.timer = null;
		}
		return this.flush();
	};

	/**
	 * The page is going away: if decisions are waiting and no request is in flight, send them
	 * once with fetch keepalive, which may outlive the page. Its answer is not awaited: the
	 * entries stay in the outbox (their attempt counted), and a later page sends them again
	 * unless it is told they are stored (a 409 for them is then silent). A browser may refuse
	 * a keepalive request that needs a CORS preflight; then the next page view sends them.
	 *
	 * @return {boolean} Whether a request was made
	 */
	Outbox.prototype.sendOnPageHide = function () {
		var batch;
		if ( this.stopped || this.inFlight ) {
			return false;
		}
		batch = this.take();
		if ( !batch ) {
			return false;
		}
		this.mark( batch, false );
		this.client( batch.backend ).postDecisions( batch.body, { keepalive: true } )
			.then( null, function () {} );
		return true;
	};

	/* ------------------------------------------------------------------ wikitext positions */

	/**
	 * Ranges of the text where links don't count: HTML comments and nowiki/pre blocks.
	 *
	 * @param {string} text
	 * @return {Array<Array<number>>} [start, end) pairs
	 */
	function inertRanges( text ) {
		var ranges = [], re = /<!--[\s\S]*?(?:-->|$)|<(nowiki|pre)\b[^>]*>[\s\S]*?(?:<\/\1\s*>|$)/gi, m;
		while ( ( m = re.exec( text ) ) !== null ) {
			ranges.push( [ m.index, m.index + m[ 0 ].length ] );
			if ( m[ 0 ].length === 0 ) {
				re.lastIndex++;
			}
		}
		return ranges;
	}

	function inRanges( ranges, index ) {
		return ranges.some( function ( range ) {
			return index >= range[ 0 ] && index < range[ 1 ];
		} );
	}

	/**
	 * Names of the category namespace on this wiki, from wgNamespaceIds (lower case,
	 * underscores for spaces), always including the canonical "category".
	 *
	 * @return {string[]}
	 */
	function categoryNamespaceNames() {
		var ids = mw.config.get( 'wgNamespaceIds' ) || {}, names = [ 'category' ], name;
		for ( name in ids ) {
			if ( hasOwn( ids, name ) && ids[ name ] === 14 && !contains( names, name ) ) {
				names.push( name );
			}
		}
		return names;
	}

	/**
	 * The category links of the text: where each ends, and the category's name as MediaWiki
	 * reads it (underscores and runs of spaces as one space, first letter in upper case, sort
	 * key dropped). Links inside comments and nowiki don't count; [[:Category:X]] is a plain link.
	 *
	 * @param {string} text
	 * @param {string[]} nsNames
	 * @return {Array<{end: number, name: string}>}
	 */
	function categoryLinks( text, nsNames ) {
		var alternatives = nsNames.map( function ( name ) {
				return mw.util.escapeRegExp( name ).replace( /_/g, '[ _]+' );
			} ),
			re = new RegExp( '\\[\\[[ _]*(?:' + alternatives.join( '|' ) + ')[ _]*:([^\\[\\]\\n|]+)(?:\\|[^\\[\\]\\n]*)?\\]\\]', 'gi' ),
			ranges = inertRanges( text ),
			links = [],
			m;
		while ( ( m = re.exec( text ) ) !== null ) {
			if ( !inRanges( ranges, m.index ) ) {
				links.push( { end: m.index + m[ 0 ].length, name: normaliseTitle( m[ 1 ] ) } );
			}
		}
		return links;
	}

	/**
	 * @param {string} name
	 * @return {string}
	 */
	function normaliseTitle( name ) {
		name = String( name ).replace( /[ _]+/g, ' ' ).trim();
		return name.charAt( 0 ).toUpperCase() + name.slice( 1 );
	}

	/**
	 * Whether the text already puts the page in this category.
	 *
	 * @param {string} text
	 * @param {string} name Category name without the namespace
	 * @param {string[]} [nsNames]
	 * @return {boolean}
	 */
	function hasCategory( text, name, nsNames ) {
		var wanted = normaliseTitle( name );
		return categoryLinks( text, nsNames || categoryNamespaceNames() ).some( function ( link ) {
			return link.name === wanted;
		} );
	}

	/**
	 * Where a run of stub templates at the end of the text starts (categories go before them,
	 * as the usual order of an article's last lines has it), or -1.
	 *
	 * @param {string} text Text without trailing white space
	 * @return {number}
	 */
	function trailingStubsStart( text ) {
		var start = -1, m,
			re = /\{\{[^{}|]*stub[ _]*(?:\|[^{}]*)?\}\}\s*$/i;
		while ( ( m = re.exec( text ) ) !== null && m.index > 0 ) {
			start = m.index;
			text = text.slice( 0, m.index );
		}
		return m && m.index === 0 ? 0 : start;
	}

	/**
	 * End offset of the last category link in the text, or -1 when there is none.
	 * Links inside comments and nowiki don't count; [[:Category:X]] is a plain link.
	 *
	 * @param {string} text
	 * @param {string[]} nsNames
	 * @return {number}
	 */
	function lastCategoryEnd( text, nsNames ) {
		var links = categoryLinks( text, nsNames );
		return links.length ? links[ links.length - 1 ].end : -1;
	}

	/**
	 * Where and how a suggestion goes into the text. Pure: the text is not changed.
	 *
	 * Categories go right after the last category link (on a new line), or else after a blank
	 * line at the end of the text, before the stub templates that end it. References go right after their anchor; a citation-needed
	 * template directly following the anchor is replaced. A reference that the article cites
	 * without a name (`insert.names_reference`) is inserted with a name, and its first use becomes
	 * the short reuse tag (`plan.rename`), so that the two uses are one footnote.
	 *
	 * @param {string} text Current wikitext
	 * @param {Object} suggestion As sent by the service
	 * @param {string[]} [nsNames] Category namespace names
	 * @return {{start: number, inserted: string, removed: string, rename: (Object|undefined)}|null}
	 *  null when the place can't be found (reference anchor not in the text); offsets are those
	 *  of `text`
	 */
	function planInsertion( text, suggestion, nsNames ) {
		var insert = suggestion.insert || {}, wikitext = String( suggestion.wikitext || '' ),
			end, start, trimmed, anchorAt, replace, plan, naming, at;
		if ( !wikitext ) {
			return null;
		}
		if ( insert.kind === 'reference' ) {
			if ( typeof insert.anchor !== 'string' || insert.anchor === '' ) {
				return null;
			}
			anchorAt = text.indexOf( insert.anchor );
			if ( anchorAt === -1 ) {
				return null;
			}
			start = anchorAt + insert.anchor.length;
			replace = typeof insert.replace === 'string' ? insert.replace : '';
			plan = {
				start: start,
				inserted: wikitext,
				removed: replace && text.slice( start, start + replace.length ) === replace ? replace : ''
			};
			naming = insert.names_reference;
			if ( isPlainObject( naming ) && typeof naming.original === 'string' && naming.original &&
				typeof naming.reuse === 'string' && naming.reuse ) {
				at = text.indexOf( naming.original );
				// Not found (changed by hand) or overlapping the insertion: inserted as it is.
				if ( at !== -1 && ( at + naming.original.length <= anchorAt ||
					at >= start + plan.removed.length ) ) {
					plan.rename = { start: at, inserted: naming.reuse, removed: naming.original };
				}
			}
			return plan;
		}
		end = lastCategoryEnd( text, nsNames || categoryNamespaceNames() );
		if ( end !== -1 ) {
			return { start: end, inserted: '\n' + wikitext, removed: '' };
		}
		trimmed = text.replace( /\s+$/, '' );
		start = trailingStubsStart( trimmed );
		if ( start !== -1 ) {
			// Before the white space that separates the text from the stub templates, if any.
			end = trimmed.slice( 0, start ).replace( /\s+$/, '' ).length;
			return {
				start: end,
				inserted: ( end ? '\n\n' : '' ) + wikitext + ( end === start ? '\n\n' : '' ),
				removed: ''
			};
		}
		return {
			start: trimmed.length,
			inserted: trimmed.length ? '\n\n' + wikitext : wikitext,
			removed: ''
		};
	}

	/**
	 * @param {string} text
	 * @param {{start: number, inserted: string, removed: string}} plan
	 * @return {string}
	 */
	function applyInsertion( text, plan ) {
		// The later change first: the earlier one's offset stays valid.
		return editsOf( plan ).reduce( function ( current, edit ) {
			return current.slice( 0, edit.start ) + edit.inserted +
				current.slice( edit.start + edit.removed.length );
		}, text );
	}

	/**
	 * A plan's changes, the one further into the text first.
	 *
	 * @param {Object} plan
	 * @return {Array<{start: number, inserted: string, removed: string}>}
	 */
	function editsOf( plan ) {
		var edits = [ plan ];
		if ( plan.rename ) {
			edits.push( plan.rename );
		}
		return edits.sort( function ( a, b ) {
			return b.start - a.start;
		} );
	}

	/**
	 * Where the inserted text is now: at its recorded offset, or else its only occurrence.
	 *
	 * @param {string} text
	 * @param {{start: number, inserted: string}} plan
	 * @return {number} -1 when it was changed or occurs more than once elsewhere
	 */
	function locateInsertion( text, plan ) {
		var at;
		if ( text.slice( plan.start, plan.start + plan.inserted.length ) === plan.inserted ) {
			return plan.start;
		}
		at = text.indexOf( plan.inserted );
		if ( at !== -1 && text.indexOf( plan.inserted, at + 1 ) === -1 ) {
			return at;
		}
		return -1;
	}

	/**
	 * Remove an insertion again, restoring what it replaced.
	 *
	 * @param {string} text
	 * @param {{start: number, inserted: string, removed: string}} plan
	 * @return {string|null} null when the inserted text can't be found unchanged
	 */
	function undoInsertion( text, plan ) {
		var at = locateInsertion( text, plan ), renamed;
		if ( at === -1 ) {
			return null;
		}
		text = text.slice( 0, at ) + plan.removed + text.slice( at + plan.inserted.length );
		if ( plan.rename ) {
			// Both or neither: a reuse tag without its definition would be an error on the page.
			renamed = locateInsertion( text, plan.rename );
			if ( renamed === -1 ) {
				return null;
			}
			text = text.slice( 0, renamed ) + plan.rename.removed +
				text.slice( renamed + plan.rename.inserted.length );
		}
		return text;
	}

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

	/* ------------------------------------------------------------------ the panel */

	/**
	 * Button with MediaWiki's core look; type=button so that it never submits #editform.
	 *
	 * @param {string} className
	 * @param {string} label Visible text
	 * @param {string} [ariaLabel]
	 * @return {jQuery}
	 */
	function makeButton( className, label, ariaLabel ) {
		// Callers pass the documented class names: the wiki-suggest-* and mw-ui-* classes.
		// eslint-disable-next-line mediawiki/class-doc
		var $button = $( '<button>' )
			.attr( 'type', 'button' )
			.addClass( 'mw-ui-button ' + className )
			.text( label );
		if ( ariaLabel ) {
			$button.attr( 'aria-label', ariaLabel );
		}
		return $button;
	}

	/**
	 * The controller of one editing session: renders the panel into the page, applies
	 * decisions to the surface and reports them to the service.
	 *
	 * @class
	 * @param {Object} config From readConfig()
	 * @param {Object} surface From createTextareaSurface()
	 * @param {Client} client
	 * @param {Outbox} outbox Where decisions go (started by main())
	 */
	function Panel( config, surface, client, outbox ) {
		this.config = config;
		this.surface = surface;
		this.client = client;
		this.outbox = outbox;
		this.items = [];
		this.reasons = {};
		this.counter = 0;
		this.$panel = $( '<section>' )
			.attr( {
				id: 'wiki-suggest-panel',
				'aria-labelledby': 'wiki-suggest-heading'
			} )
			.addClass( 'wiki-suggest-panel' );
		this.$heading = $( '<div>' )
			.attr( { id: 'wiki-suggest-heading', role: 'heading', 'aria-level': '2' } )
			.addClass( 'wiki-suggest-heading' )
			.text( msg( 'heading' ) );
		this.$status = $( '<div>' )
			.attr( { role: 'status', 'aria-live': 'polite' } )
			.addClass( 'wiki-suggest-status' )
			.text( msg( 'loading' ) );
		this.$body = $( '<div>' ).addClass( 'wiki-suggest-body' );
		this.$panel.append( this.$heading, this.$status, this.$body );
	}

	Panel.prototype.accepted = function () {
		return this.items.filter( function ( item ) {
			return item.state === 'accepted';
		} );
	};

	Panel.prototype.user = function () {
		return mw.config.get( 'wgUserName' );
	};

	Panel.prototype.disclaimer = function () {
		var $link = $( '<a>' )
			.attr( {
				href: this.config.backend + '/toolcard',
				target: '_blank',
				rel: 'noopener noreferrer'
			} )
			.addClass( 'wiki-suggest-toolcard' )
			.text( msg( 'toolcard-link' ) );
		return $( '<div>' )
			.addClass( 'wiki-suggest-disclaimer mw-message-box mw-message-box-notice' )
			.append( $( '<span>' ).text( msg( 'disclaimer' ) + ' ' ), $link );
	};

	/**
	 * Show the results of all task requests.
	 *
	 * @param {Array<{task: string, status: number, data: *}>} results
	 * @param {Object[]} carried Accepted items carried over a preview (see startEditor())
	 * @param {Object[]} [decided] Rejected and skipped items carried over a preview: shown as
	 *  decided, and not offered again under a new id
	 */
	Panel.prototype.render = function ( results, carried, decided ) {
		var panel = this, pauses = [], limits = [], suggestions = [], errors = [], $list,
			carriedIds = {}, carriedText = {};
		decided = decided || [];
		carried.concat( decided ).forEach( function ( record ) {
			carriedIds[ record.suggestion.id ] = true;
			carriedText[ record.suggestion.wikitext ] = true;
		} );
		results.forEach( function ( result ) {
			var data = result.data, reasons;
			if ( !result.ok || !isPlainObject( data ) ) {
				errors.push( isPlainObject( data ) && isPlainObject( data.error ) ?
					String( data.error.code || result.status ) : String( result.status || 'network' ) );
				return;
			}
			if ( data.pause || ( data.meta && data.meta.paused && data.meta.paused[ result.task ] ) ) {
				pauses.push( isPlainObject( data.pause ) && data.pause.reason ? String( data.pause.reason ) : '' );
				return;
			}
			if ( isPlainObject( data.limit ) ) {
				limits.push( Number( data.limit.cap ) || 0 );
				return;
			}
			reasons = data.meta && data.meta.task && Array.isArray( data.meta.task.reasons ) ?
				data.meta.task.reasons : null;
			( Array.isArray( data.suggestions ) ? data.suggestions : [] ).forEach( function ( suggestion ) {
				if ( !isPlainObject( suggestion ) || typeof suggestion.id !== 'string' ||
					typeof suggestion.wikitext !== 'string' || carriedIds[ suggestion.id ] ||
					carriedText[ suggestion.wikitext ]
				) {
					return;
				}
				suggestion.task = suggestion.task || result.task;
				panel.reasons[ suggestion.task ] = reasons || panel.reasons[ suggestion.task ];
				suggestions.push( suggestion );
			} );
		} );

		this.$body.empty();
		this.$status.text( '' );
		pauses.forEach( function ( reason ) {
			panel.$body.append( $( '<div>' )
				.addClass( 'wiki-suggest-paused mw-message-box mw-message-box-warning' )
				.text( reason ? msg( 'paused', reason ) : msg( 'paused-noreason' ) ) );
		} );
		limits.slice( 0, 1 ).forEach( function ( cap ) {
			panel.$body.append( $( '<div>' )
				.addClass( 'wiki-suggest-limit mw-message-box mw-message-box-notice' )
				.text( msg( 'limit', cap ) ) );
		} );
		if ( pauses.length + limits.length === results.length && results.length &&
			!carried.length && !decided.length
		) {
			// Every task is paused: show nothing but the notice.
			return;
		}
		this.$body.append( this.disclaimer() );
		if ( errors.length ) {
			this.$body.append( $( '<div>' )
				.addClass( 'wiki-suggest-error mw-message-box mw-message-box-error' )
				.text( msg( 'error', errors.join( ', ' ) ) ) );
		}
		$list = $( '<ul>' ).addClass( 'wiki-suggest-list' );
		carried.forEach( function ( record ) {
			var item = panel.addItem( $list, record.suggestion );
			item.plan = record.plan;
			item.posted.accept = true;
			panel.setState( item, 'accepted' );
			panel.follow( item );
		} );
		decided.forEach( function ( record ) {
			var item = panel.addItem( $list, record.suggestion );
			item.posted[ record.state === 'rejected' ? 'reject' : 'skip' ] = true;
			panel.setState( item, record.state );
			panel.say( item, panel.statusText( item ) );
			panel.follow( item );
		} );
		suggestions.forEach( function ( suggestion ) {
			panel.addItem( $list, suggestion );
		} );
		if ( !this.items.length && !errors.length ) {
			this.$body.append( $( '<div>' ).addClass( 'wiki-suggest-none' ).text( msg( 'none' ) ) );
		}
		this.$body.append( $list );
	};

	/**
	 * @param {Object} suggestion
	 * @return {string} The visible name of the proposal
	 */
	function labelOf( suggestion ) {
		return typeof suggestion.label === 'string' && suggestion.label ? suggestion.label : suggestion.wikitext;
	}

	Panel.prototype.addItem = function ( $list, suggestion ) {
		var panel = this,
			label = labelOf( suggestion ),
			item = { suggestion: suggestion, state: 'pending', plan: null, posted: {}, unsent: {} },
			isCategory = !suggestion.insert || suggestion.insert.kind !== 'reference',
			contentLang = mw.config.get( 'wgPageContentLanguage' ) || '',
			contentDir = $( '#wpTextbox1' ).attr( 'dir' ) || '',
			commentId = 'wiki-suggest-comment-' + ( ++this.counter ),
			$label, $proposal, $reasons, $comment, $statement, confidence;

		if ( isCategory ) {
			$label = $( '<a>' ).attr( {
				href: mw.util.getUrl( ( mw.config.get( 'wgFormattedNamespaces' ) || {} )[ 14 ] ?
					mw.config.get( 'wgFormattedNamespaces' )[ 14 ] + ':' + label : 'Category:' + label ),
				target: '_blank',
				rel: 'noopener'
			} );
		} else {
			$label = $( '<span>' );
		}
		$label.addClass( 'wiki-suggest-label' ).text( label );
		if ( contentLang ) {
			$label.attr( 'lang', contentLang );
		}
		if ( contentDir ) {
			$label.attr( 'dir', contentDir );
		}
		$proposal = $( '<div>' ).addClass( 'wiki-suggest-proposal' ).append(
			$( '<span>' ).addClass( 'wiki-suggest-task' )
				.text( isCategory ? msg( 'task-categories' ) : msg( 'task-references' ) ),
			' ',
			$label
		);
		confidence = String( suggestion.confidence || '' );
		if ( contains( [ 'high', 'medium', 'low' ], confidence ) ) {
			// Classes: wiki-suggest-confidence-high, -medium, -low
			// Messages: wiki-suggest-confidence-high, -medium, -low
			// eslint-disable-next-line mediawiki/class-doc
			$proposal.append( ' ', $( '<span>' )
				.addClass( 'wiki-suggest-confidence wiki-suggest-confidence-' + confidence )
				.text( msg( 'confidence-' + confidence ) ) );
		}

		item.$add = makeButton( 'mw-ui-progressive wiki-suggest-add', msg( 'add' ), msg( 'add-label', label ) );
		item.$reject = makeButton( 'mw-ui-destructive wiki-suggest-reject', msg( 'reject' ), msg( 'reject-label', label ) )
			.attr( { 'aria-expanded': 'false', 'aria-controls': commentId + '-reasons' } );
		item.$skip = makeButton( 'mw-ui-quiet wiki-suggest-skip', msg( 'skip' ), msg( 'skip-label', label ) );
		item.$undo = makeButton( 'wiki-suggest-undo', msg( 'undo' ), msg( 'undo-label', label ) );
		item.$actions = $( '<div>' ).addClass( 'wiki-suggest-actions' )
			.append( item.$add, item.$reject, item.$skip, item.$undo );

		$comment = $( '<input>' ).attr( {
			type: 'text',
			id: commentId,
			maxlength: '500',
			autocomplete: 'off'
		} ).addClass( 'wiki-suggest-comment mw-ui-input' );
		$reasons = $( '<div>' )
			.attr( {
				id: commentId + '-reasons',
				role: 'group',
				'aria-label': msg( 'reasons-prompt' )
			} )
			.addClass( 'wiki-suggest-reasons' )
			.append( $( '<div>' ).addClass( 'wiki-suggest-reasons-prompt' ).text( msg( 'reasons-prompt' ) ) );
		this.reasonsFor( suggestion.task ).forEach( function ( reason ) {
			$reasons.append( makeButton( 'wiki-suggest-reason', reason.label )
				.attr( 'data-reason', reason.id )
				.on( 'click', function () {
					panel.reject( item, reason.id, $comment.val() );
				} ), ' ' );
		} );
		$reasons.append(
			$( '<div>' ).addClass( 'wiki-suggest-comment-field' ).append(
				$( '<label>' ).attr( 'for', commentId ).text( msg( 'comment-label' ) ),
				$comment
			),
			makeButton( 'mw-ui-quiet wiki-suggest-cancel', msg( 'cancel' ) ).on( 'click', function () {
				panel.closeReasons( item, true );
			} )
		);
		$reasons.on( 'keydown', function ( e ) {
			if ( e.key === 'Escape' ) {
				e.preventDefault();
				panel.closeReasons( item, true );
			}
		} );
		// Enter in a text field would submit (and save) the whole edit form.
		$comment.on( 'keydown', function ( e ) {
			if ( e.key === 'Enter' ) {
				e.preventDefault();
			}
		} );
		item.$reasons = $reasons.prop( 'hidden', true );
		item.$itemStatus = $( '<div>' ).addClass( 'wiki-suggest-item-status' ).attr( 'aria-live', 'polite' );

		item.$add.on( 'click', function () {
			panel.accept( item );
		} );
		item.$reject.on( 'click', function () {
			panel.openReasons( item );
		} );
		item.$skip.on( 'click', function () {
			panel.skip( item );
		} );
		item.$undo.on( 'click', function () {
			panel.undo( item );
		} );

		if ( !isCategory && typeof suggestion.insert.statement === 'string' && suggestion.insert.statement ) {
			// The statement the source is for; "Show in text" selects it in the edit box.
			$statement = $( '<div>' ).addClass( 'wiki-suggest-statement' ).append(
				$( '<span>' ).addClass( 'wiki-suggest-statement-prompt' ).text( msg( 'statement' ) ),
				' ',
				$( '<q>' ).addClass( 'wiki-suggest-statement-text' )
					.attr( { lang: contentLang || null, dir: contentDir || null } )
					.text( suggestion.insert.statement ),
				' ',
				makeButton( 'mw-ui-quiet wiki-suggest-locate', msg( 'locate' ), msg( 'locate-label', label ) )
					.on( 'click', function () {
						panel.locate( item );
					} )
			);
		}

		item.$element = $( '<li>' )
			.addClass( 'wiki-suggest-item' )
			.attr( { 'data-id': suggestion.id, 'data-task': suggestion.task || '' } )
			.append(
				$proposal,
				$statement || '',
				explanationText( suggestion ) ?
					$( '<div>' ).addClass( 'wiki-suggest-explanation' ).text( explanationText( suggestion ) ) : '',
				$( '<code>' ).addClass( 'wiki-suggest-wikitext' ).attr( 'dir', 'ltr' ).text( suggestion.wikitext ),
				item.$actions,
				$reasons,
				item.$itemStatus
			);
		$list.append( item.$element );
		this.items.push( item );
		this.setState( item, 'pending' );
		return item;
	};

	/**
	 * The task's rejection reasons, labelled in the user's language where a message exists.
	 *
	 * @param {string} task
	 * @return {Array<{id: string, label: string}>}
	 */
	Panel.prototype.reasonsFor = function ( task ) {
		var reasons = this.reasons[ task ] || DEFAULT_REASONS.map( function ( id ) {
			return { id: id, label: '' };
		} );
		return reasons.filter( function ( reason ) {
			return isPlainObject( reason ) && typeof reason.id === 'string' && reason.id;
		} ).map( function ( reason ) {
			var key = 'reason-' + reason.id;
			return {
				id: reason.id,
				// Messages: wiki-suggest-reason-wrong_topic, -too_general, -too_specific,
				// -already_covered, -other, -not_supporting, -unreliable, -irrelevant,
				// -already_cited
				label: hasMsg( key ) ? msg( key ) : String( reason.label || reason.id )
			};
		} );
	};

	Panel.prototype.setState = function ( item, state ) {
		var pending = state === 'pending';
		item.state = state;
		item.$element.attr( 'data-state', state );
		item.$add.prop( 'hidden', !pending );
		item.$reject.prop( 'hidden', !pending );
		item.$skip.prop( 'hidden', !pending );
		item.$undo.prop( 'hidden', state !== 'accepted' );
		if ( !pending ) {
			item.$reasons.prop( 'hidden', true );
		}
	};

	Panel.prototype.say = function ( item, text, isError ) {
		item.$itemStatus.text( text ).toggleClass( 'wiki-suggest-item-error', !!isError );
	};

	/**
	 * The item's usual status text for its state.
	 *
	 * @param {Object} item
	 * @return {string}
	 */
	Panel.prototype.statusText = function ( item ) {
		// Messages: wiki-suggest-status-added, wiki-suggest-status-rejected,
		// wiki-suggest-status-skipped, wiki-suggest-status-undone
		return msg( 'status-' + ( { accepted: 'added', rejected: 'rejected', skipped: 'skipped' }[ item.state ] ||
			'undone' ) );
	};

	/**
	 * What the item says about its decisions on their way to the service (see Outbox): while
	 * one is not stored yet, that it will be sent again; once stored, its usual status again.
	 * A 409 on the first attempt means the service already holds a decision for this id.
	 *
	 * @param {Object} item
	 * @return {Function} An Outbox listener
	 */
	Panel.prototype.listener = function ( item ) {
		var panel = this;
		return function ( outcome, id ) {
			var waiting;
			if ( outcome === 'retrying' ) {
				item.unsent[ id ] = true;
				panel.say( item, msg( 'post-retrying' ), true );
				return;
			}
			waiting = hasOwn( item.unsent, id );
			delete item.unsent[ id ];
			if ( outcome === 'already' ) {
				panel.say( item, msg( 'already-decided' ) );
			} else if ( outcome === 'failed' ) {
				panel.say( item, msg( 'post-failed' ), true );
			} else if ( waiting && !Object.keys( item.unsent ).length ) {
				// Stored after all.
				panel.say( item, panel.statusText( item ) );
			}
		};
	};

	/**
	 * Follow the decisions of a carried-over item that are still in the outbox.
	 *
	 * @param {Object} item
	 */
	Panel.prototype.follow = function ( item ) {
		if ( this.outbox ) {
			this.outbox.follow( item.suggestion.id, this.listener( item ) );
		}
	};

	/**
	 * Report a decision: into the outbox, which sends it (see Outbox).
	 *
	 * @param {Object} item
	 * @param {string} decision accept, reject or skip
	 * @param {string} [reason]
	 * @param {string} [comment]
	 * @return {Promise} Resolves when the outbox has sent what it can for now
	 */
	Panel.prototype.postDecision = function ( item, decision, reason, comment ) {
		// eslint-disable-next-line camelcase
		var body = { suggestion_id: item.suggestion.id, decision: decision };
		if ( decision === 'reject' ) {
			body.reason = reason;
		}
		if ( comment ) {
			body.comment = String( comment ).slice( 0, COMMENT_MAX_LENGTH );
		}
		item.posted[ decision ] = true;
		return this.outbox.add( body, this.user(), this.config.backend, this.listener( item ) );
	};

	/**
	 * Keep the offsets of other insertions right after the text changed at `start`.
	 *
	 * @param {Object} except The item whose change it was
	 * @param {number} start
	 * @param {number} delta
	 */
	Panel.prototype.shiftPlans = function ( except, start, delta ) {
		this.items.forEach( function ( item ) {
			if ( item !== except && item.plan && item.state === 'accepted' ) {
				editsOf( item.plan ).forEach( function ( edit ) {
					if ( edit.start >= start ) {
						edit.start += delta;
					}
				} );
			}
		} );
	};

	/**
	 * Select a reference suggestion's statement (its anchor) in the edit box.
	 *
	 * @param {Object} item
	 * @return {boolean} Whether the statement was found
	 */
	Panel.prototype.locate = function ( item ) {
		var anchor = ( item.suggestion.insert || {} ).anchor,
			at = typeof anchor === 'string' && anchor ? this.surface.getText().indexOf( anchor ) : -1;
		if ( at === -1 ) {
			this.say( item, msg( 'anchor-missing' ), true );
			return false;
		}
		this.surface.select( at, at + anchor.length );
		return true;
	};

	Panel.prototype.accept = function ( item ) {
		var text = this.surface.getText(),
			isCategory = !item.suggestion.insert || item.suggestion.insert.kind !== 'reference',
			plan, edits;
		if ( isCategory && hasCategory( text, labelOf( item.suggestion ) ) ) {
			// Added by hand since the service read the page: not a second time.
			this.say( item, msg( 'in-text' ), true );
			return null;
		}
		plan = planInsertion( text, item.suggestion );
		if ( !plan ) {
			this.say( item, msg( 'anchor-missing' ), true );
			return null;
		}
		editsOf( plan ).forEach( function ( edit ) {
			this.surface.replace( edit.start, edit.removed.length, edit.inserted );
			this.shiftPlans( item, edit.start, edit.inserted.length - edit.removed.length );
		}, this );
		if ( plan.rename ) {
			// Offsets of the text as it is now: the later change moved by the earlier one.
			edits = editsOf( plan );
			edits[ 0 ].start += edits[ 1 ].inserted.length - edits[ 1 ].removed.length;
		}
		item.plan = plan;
		this.setState( item, 'accepted' );
		this.say( item, msg( 'status-added' ) );
		item.$undo.trigger( 'focus' );
		// Adding again after an undo needs no second report.
		return item.posted.accept ? Promise.resolve() : this.postDecision( item, 'accept' );
	};

	Panel.prototype.undo = function ( item ) {
		var text = this.surface.getText(),
			plan = item.plan,
			at = plan ? locateInsertion( text, plan ) : -1,
			renamed = -1;
		if ( at !== -1 && plan.rename ) {
			// Where the reuse tag is once the insertion is gone.
			renamed = locateInsertion( text.slice( 0, at ) + plan.removed +
				text.slice( at + plan.inserted.length ), {
				start: plan.rename.start +
					( plan.rename.start > at ? plan.removed.length - plan.inserted.length : 0 ),
				inserted: plan.rename.inserted
			} );
		}
		if ( at === -1 || ( plan.rename && renamed === -1 ) ) {
			this.say( item, msg( 'undo-failed' ), true );
			return false;
		}
		this.surface.replace( at, plan.inserted.length, plan.removed );
		this.shiftPlans( item, at, plan.removed.length - plan.inserted.length );
		if ( plan.rename ) {
			this.surface.replace( renamed, plan.rename.inserted.length, plan.rename.removed );
			this.shiftPlans( item, renamed, plan.rename.removed.length - plan.rename.inserted.length );
		}
		item.plan = null;
		this.setState( item, 'pending' );
		this.say( item, msg( 'status-undone' ) );
		item.$add.trigger( 'focus' );
		return true;
	};

	Panel.prototype.openReasons = function ( item ) {
		item.$reasons.prop( 'hidden', false );
		item.$reject.attr( 'aria-expanded', 'true' );
		item.$reasons.find( '.wiki-suggest-reason' ).first().trigger( 'focus' );
	};

	Panel.prototype.closeReasons = function ( item, refocus ) {
		item.$reasons.prop( 'hidden', true );
		item.$reject.attr( 'aria-expanded', 'false' );
		if ( refocus ) {
			item.$reject.trigger( 'focus' );
		}
	};

	Panel.prototype.reject = function ( item, reason, comment ) {
		this.closeReasons( item, false );
		this.setState( item, 'rejected' );
		this.say( item, msg( 'status-rejected' ) );
		item.$itemStatus.attr( 'tabindex', '-1' ).trigger( 'focus' );
		return this.postDecision( item, 'reject', reason, String( comment || '' ).trim() );
	};

	Panel.prototype.skip = function ( item ) {
		this.setState( item, 'skipped' );
		this.say( item, msg( 'status-skipped' ) );
		item.$itemStatus.attr( 'tabindex', '-1' ).trigger( 'focus' );
		return this.postDecision( item, 'skip' );
	};

	/**
	 * Remember the decided suggestions across the form submission (a preview shows the panel
	 * again: accepted ones stay in the text, rejected and skipped ones stay decided); on a save
	 * with accepted ones, also add the marker to the edit summary.
	 *
	 * @param {boolean} isSave
	 */
	Panel.prototype.onSubmit = function ( isSave ) {
		var accepted = this.accepted(), $summary, suggestions,
			decided = this.items.filter( function ( item ) {
				return item.state === 'rejected' || item.state === 'skipped';
			} );
		if ( !accepted.length && !decided.length ) {
			clearStored();
			return;
		}
		suggestions = accepted.map( function ( item ) {
			return item.suggestion;
		} );
		if ( isSave && accepted.length ) {
			$summary = $( '#wpSummary' );
			$summary.val( appendMarker(
				$summary.val(),
				summaryMarker( this.config, suggestions ),
				summaryMarker( this.config, [] ).replace( /^\s+/, '' )
			) );
		}
		writeStored( {
			wiki: mw.config.get( 'wgDBname' ),
			page: mw.config.get( 'wgPageName' ),
			baseRevid: mw.config.get( 'wgCurRevisionId' ) || 0,
			user: this.user(),
			saved: isSave,
			ts: Date.now(),
			items: accepted.map( function ( item ) {
				return { suggestion: item.suggestion, plan: item.plan };
			} ),
			decided: decided.map( function ( item ) {
				return { suggestion: item.suggestion, state: item.state };
			} )
		} );
	};

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
		if ( !$textarea.length || !$form.length ||
			// A page being created: the service suggests for a saved revision.
			!mw.config.get( 'wgCurRevisionId' ) ||
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
		$anchor = $textarea.closest( '.wikiEditor-ui' );
		( $anchor.length ? $anchor : $textarea ).before( panel.$panel );

		$form.on( 'click', 'input[type="submit"], button[type="submit"]', function () {
			lastClicked = this;
		} );
		$form.on( 'submit', function ( e ) {
			panel.onSubmit( isSaveSubmit( e, lastClicked ) );
		} );

		return Promise.all( config.tasks.map( function ( task ) {
			return client.getSuggestions( mw.config.get( 'wgDBname' ), mw.config.get( 'wgPageName' ), task,
				mw.config.get( 'wgUserName' ) )
				.then( function ( response ) {
					response.task = task;
					return response;
				}, function () {
					return { task: task, ok: false, status: 0, data: null };
				} );
		} ) ).then( function ( results ) {
			panel.render( results, carried, decided );
			return panel;
		} );
	}

	/**
	 * On the page view after a save, report the accepted suggestions with the new revision
	 * (after the outbox has sent what it can: the service links only stored acceptances).
	 *
	 * @param {Object} config From readConfig()
	 * @param {Outbox} outbox
	 * @return {Promise<boolean>} Whether a report was sent
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
		} ).then( function () {
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
			if ( action === 'view' ) {
				return reportSavedEdit( config, outbox );
			}
			if ( !config.tasks.length || !contains( config.namespaces, mw.config.get( 'wgNamespaceNumber' ) ) ) {
				return null;
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
		lastCategoryEnd: lastCategoryEnd,
		hasCategory: hasCategory,
		summaryMarker: summaryMarker,
		appendMarker: appendMarker,
		createTextareaSurface: createTextareaSurface,
		Client: Client,
		Panel: Panel,
		Outbox: Outbox,
		// The running Outbox, once started (see main()).
		outbox: null,
		startup: new Promise( function ( resolve ) {
			$( function () {
				resolve( main() );
			} );
		} )
	};
}() );

/**
 * wiki-suggest gadget: the decision outbox: decisions kept in localStorage until the service has answered for them (Outbox).
 *
 * A part of gadget/src/wiki-suggest.js: gadget/build.mjs puts it in place of the line
 * `// build:include outbox.js`, inside that script's function, where it shares the script's
 * constants and helpers. Checked with all the rules once assembled (gadget/dist/).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
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
	 * Whether a string is valid Unicode: no lone half of a UTF-16 surrogate pair (the service
	 * refuses a request that holds one, and with it the other decisions of the request).
	 *
	 * @param {string} text
	 * @return {boolean}
	 */
	function isWellFormed( text ) {
		try {
			// Throws URIError on a lone surrogate.
			encodeURIComponent( text );
			return true;
		} catch ( e ) {
			return false;
		}
	}

	/**
	 * Text without the control characters the service refuses in a comment (all but tab and
	 * line breaks), each replaced by a space: pasted into the comment field, one would otherwise
	 * cost the whole request.
	 *
	 * @param {string} text
	 * @return {string}
	 */
	function withoutControls( text ) {
		var out = '', i, code;
		for ( i = 0; i < text.length; i++ ) {
			code = text.charCodeAt( i );
			out += ( code < 32 && code !== 9 && code !== 10 && code !== 13 ) || code === 127 ?
				' ' : text.charAt( i );
		}
		return out;
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
				body.comment.length > COMMENT_MAX_LENGTH || !isWellFormed( body.comment ) ) )
		) {
			return null;
		}
		// eslint-disable-next-line camelcase
		clean = { suggestion_id: body.suggestion_id, decision: body.decision };
		if ( body.decision === 'reject' ) {
			clean.reason = body.reason;
		}
		if ( body.comment ) {
			clean.comment = withoutControls( body.comment );
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
	 * The group of an entry: a request holds the entries of one user for one service.
	 *
	 * @param {Object} entry
	 * @return {string}
	 */
	function outboxGroup( entry ) {
		return JSON.stringify( [ entry.backend, entry.user ] );
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
	 * BATCH_MAX_BYTES of JSON (halved after a 413). The entries of a user and service whose
	 * last request could not be stored go after the others (a service that does not answer
	 * holds back no other). A request carries the user's ticket when one is stored for that user
	 * (see ticketFor(); read as the request is made, not kept in the entries); a request whose
	 * ticket the service refuses is sent again without it (see post()).
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
		// When the last request of a group (outboxGroup()) could not be stored, by group: such
		// groups are sent after the others, the one that failed longest ago first.
		this.behind = {};
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
	 * Whether a decision on one of these suggestions is still waiting in the outbox.
	 *
	 * @param {string[]} suggestionIds
	 * @return {boolean}
	 */
	Outbox.prototype.holds = function ( suggestionIds ) {
		return this.read().some( function ( entry ) {
			return suggestionIds.indexOf( entry.body.suggestion_id ) !== -1;
		} );
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
	 * one's user and service (see this.behind), at most this.limit of them and at most
	 * BATCH_MAX_BYTES of JSON (always at least one), with the user's ticket when one is stored
	 * (see ticketFor()). Sets this.claimedUntil when claimed entries were left out.
	 *
	 * @return {{entries: Object[], body: Object, backend: string, tries: Object<string, number>}|null}
	 */
	Outbox.prototype.take = function () {
		var outbox = this, now = this.now(), first = null, full = false,
			list = this.read(), entries, body, size, ticket;
		function behind( entry ) {
			return outbox.behind[ outboxGroup( entry ) ] || 0;
		}
		if ( this.changed ) {
			// Old entries dropped: gone from the storage too.
			this.write( list );
		}
		this.claimedUntil = 0;
		entries = list.filter( function ( entry ) {
			var claim = entry.claim;
			if ( isPlainObject( claim ) && claim.tab !== outbox.tab && typeof claim.ts === 'number' &&
				now - claim.ts < CLAIM_TIME
			) {
				// Another tab is sending it.
				outbox.claimedUntil = Math.max( outbox.claimedUntil, claim.ts + CLAIM_TIME );
				return false;
			}
			if ( !first || behind( entry ) < behind( first ) ) {
				first = entry;
			}
			return true;
		} );
		if ( !first ) {
			return null;
		}
		entries = entries.filter( function ( entry ) {
			return entry.user === first.user && entry.backend === first.backend;
		} ).slice( 0, this.limit );
		body = { decisions: [] };
		if ( first.user !== null ) {
			body.user = first.user;
			// Read now: the entry may be from before the user confirmed the account.
			ticket = ticketFor( this.storage, first.user, now );
			if ( ticket ) {
				body.ticket = ticket;
			}
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
		return this.post( batch ).then( function ( response ) {
			outbox.inFlight = null;
			return outbox.answer( batch, response );
		}, function () {
			// Network error or timeout: the decisions may or may not have been stored.
			outbox.inFlight = null;
			return outbox.retryLater( batch.entries, null );
		} );
	};

	/**
	 * Post a request. A ticket the service refuses (400 invalid_ticket: malformed, forged, or of
	 * another user) cost the whole request and stored nothing: it is forgotten, and the same
	 * decisions are posted again without it.
	 *
	 * @private
	 * @param {Object} batch From take(); its body loses a refused ticket
	 * @param {Object} [options] As for Client.prototype.request()
	 * @return {Promise<{status: number, ok: boolean, data: *, retryAfter: (number|null)}>}
	 */
	Outbox.prototype.post = function ( batch, options ) {
		var outbox = this;
		return this.client( batch.backend ).postDecisions( batch.body, options ).then( function ( response ) {
			var error = isPlainObject( response.data ) ? response.data.error : null;
			if ( batch.body.ticket !== undefined && response.status === 400 && isPlainObject( error ) &&
				error.code === 'invalid_ticket'
			) {
				dropTicket( outbox.storage, batch.body.user, batch.body.ticket );
				delete batch.body.ticket;
				return outbox.post( batch, options );
			}
			return response;
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
			this.limit = BATCH_MAX;
			batch.entries.forEach( function ( entry, i ) {
				// A result for another decision (not in the order sent) is no answer for this one.
				var code = isPlainObject( results[ i ] ) &&
					results[ i ].suggestion_id === entry.body.suggestion_id ? Number( results[ i ].status ) : 0;
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
			if ( kept.length ) {
				// The backoff goes on: the service fails on these every time it is asked.
				return this.retryLater( kept, null );
			}
			this.delay = 0;
			delete this.behind[ outboxGroup( batch.entries[ 0 ] ) ];
			return true;
		}
		if ( status === 413 && batch.entries.length > 1 ) {
			// Too large for the service: half as many per request until one goes through.
			this.limit = Math.max( 1, Math.floor( batch.entries.length / 2 ) );
			this.settle( batch.entries, {} );
			return true;
		}
		if ( status === 400 || status === 413 || status === 415 ) {
			// Refused as a whole (400 invalid_body, 413 for a single decision, 415): final. Any
			// other answer (404 or 405 from a service older than this gadget, 401, 403 from a
			// proxy, 408, 429, 5xx) stored nothing, and a later attempt may be stored.
			this.delay = 0;
			batch.entries.forEach( function ( entry ) {
				outcomes[ entry.id ] = 'failed';
			} );
			this.settle( batch.entries, outcomes );
			return true;
		}
		// 429, 5xx (503: the service's database is down), another 4xx, or an answer that is
		// not the batch endpoint's: nothing or not everything was stored.
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
		this.behind[ outboxGroup( entries[ 0 ] ) ] = this.now();
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
	 * once with fetch keepalive, which may outlive the page. A request in flight ends with the
	 * page: its entries are no longer claimed, so that the next page sends them at once. The
	 * keepalive request's answer is not awaited: the entries stay in the outbox (their attempt
	 * counted), and a later page sends them again unless it is told they are stored (a 409 for
	 * them is then silent). A browser may refuse a keepalive request that needs a CORS
	 * preflight; then the next page view sends them.
	 *
	 * @return {boolean} Whether a request was made
	 */
	Outbox.prototype.sendOnPageHide = function () {
		var batch;
		if ( this.stopped ) {
			return false;
		}
		if ( this.inFlight ) {
			this.settle( this.inFlight.entries, {} );
			return false;
		}
		batch = this.take();
		if ( !batch ) {
			return false;
		}
		this.mark( batch, false );
		this.post( batch, { keepalive: true } ).then( null, function () {} );
		return true;
	};

/**
 * wiki-suggest: machine-suggested categories and references in the source editor.
 *
 * The gadget asks the wiki-suggest service for suggestions about the page being edited, shows
 * them above the edit box and lets the editor add, reject or skip each one. It never saves:
 * the editor reviews the change and saves it as usual. Every decision is reported to the
 * service as it happens, and after a save the accepted suggestion ids are reported together
 * with the new revision id, so that the service can verify them.
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
	 * @param {string} method
	 * @param {string} path
	 * @param {Object} [body] Sent as JSON
	 * @return {Promise<{status: number, ok: boolean, data: *}>} Rejects on network errors only
	 */
	Client.prototype.request = function ( method, path, body ) {
		var headers = { 'Api-User-Agent': userAgent() },
			init = { method: method, headers: headers, credentials: 'omit', mode: 'cors' },
			controller = typeof window.AbortController === 'function' ? new window.AbortController() : null,
			timer;
		if ( body !== undefined ) {
			headers[ 'Content-Type' ] = 'application/json';
			init.body = JSON.stringify( body );
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
				return { status: response.status, ok: response.ok, data: data };
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

	Client.prototype.postDecision = function ( body ) {
		return this.request( 'POST', '/api/v1/decisions', body );
	};

	Client.prototype.postEdit = function ( body ) {
		return this.request( 'POST', '/api/v1/edits', body );
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
	 */
	function Panel( config, surface, client ) {
		this.config = config;
		this.surface = surface;
		this.client = client;
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
		} );
		decided.forEach( function ( record ) {
			var item = panel.addItem( $list, record.suggestion );
			item.posted[ record.state === 'rejected' ? 'reject' : 'skip' ] = true;
			panel.setState( item, record.state );
			// Messages: wiki-suggest-status-rejected, wiki-suggest-status-skipped
			panel.say( item, msg( 'status-' + record.state ) );
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
			item = { suggestion: suggestion, state: 'pending', plan: null, posted: {} },
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
	 * Report a decision. A 409 means the service already holds a decision for this id.
	 *
	 * @param {Object} item
	 * @param {string} decision accept, reject or skip
	 * @param {string} [reason]
	 * @param {string} [comment]
	 * @return {Promise}
	 */
	Panel.prototype.postDecision = function ( item, decision, reason, comment ) {
		var panel = this,
			// eslint-disable-next-line camelcase
			body = { suggestion_id: item.suggestion.id, decision: decision, user: this.user() };
		if ( decision === 'reject' ) {
			body.reason = reason;
		}
		if ( comment ) {
			body.comment = comment;
		}
		item.posted[ decision ] = true;
		return this.client.postDecision( body ).then( function ( response ) {
			if ( response.status === 409 ) {
				panel.say( item, msg( 'already-decided' ) );
			} else if ( !response.ok ) {
				panel.say( item, msg( 'post-failed' ), true );
			}
		}, function () {
			panel.say( item, msg( 'post-failed' ), true );
		} );
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

	function startEditor( config ) {
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
		panel = new Panel( config, surface, client );
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
	 * On the page view after a save, report the accepted suggestions with the new revision.
	 *
	 * @param {Object} config From readConfig()
	 * @return {Promise<boolean>} Whether a report was sent
	 */
	function reportSavedEdit( config ) {
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
		return new Client( config.backend, config.timeout ).postEdit( {
			// eslint-disable-next-line camelcase
			suggestion_ids: ids,
			revid: revid,
			user: mw.config.get( 'wgUserName' )
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
		if ( !mw.config.get( 'wgUserName' ) || mw.config.get( 'wgPageContentModel' ) !== 'wikitext' ||
			!contains( [ 'view', 'edit', 'submit' ], action )
		) {
			return Promise.resolve( null );
		}
		return userScriptsLoaded().then( function () {
			var config = readConfig();
			if ( action === 'view' ) {
				return reportSavedEdit( config );
			}
			if ( !config.tasks.length || !contains( config.namespaces, mw.config.get( 'wgNamespaceNumber' ) ) ) {
				return null;
			}
			return startEditor( config );
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
		startup: new Promise( function ( resolve ) {
			$( function () {
				resolve( main() );
			} );
		} )
	};
}() );

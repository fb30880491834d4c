/**
 * wiki-suggest gadget: wikitext positions: where a category or a reference goes in the text, and taking it out again.
 *
 * A part of gadget/src/wiki-suggest.js: gadget/build.mjs puts it in place of the line
 * `// build:include positions.js`, inside that script's function, where it shares the script's
 * constants and helpers. Checked with all the rules once assembled (gadget/dist/).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
	/* ------------------------------------------------------------------ wikitext positions */

	/**
	 * Ranges of the text where links don't count: HTML comments and nowiki/pre blocks.
	 *
	 * @param {string} text
	 * @return {Array<Array<number>>} [start, end) pairs
	 */
	function inertRanges( text ) {
		var ranges = [], re = /<!--[\s\S]*?(?:-->|$)|<(nowiki|pre)\b([^>]*)>/gi, m, end, close, closing;
		while ( ( m = re.exec( text ) ) !== null ) {
			end = m.index + m[ 0 ].length;
			// An opening tag runs to its closing tag (or the end of the text); a self-closing
			// <nowiki/>, common in article text, is only itself.
			if ( m[ 1 ] && !/\/\s*$/.test( m[ 2 ] ) ) {
				close = new RegExp( '<\\/' + m[ 1 ] + '\\s*>', 'gi' );
				close.lastIndex = end;
				closing = close.exec( text );
				end = closing ? closing.index + closing[ 0 ].length : text.length;
				re.lastIndex = end;
			}
			ranges.push( [ m.index, end ] );
			if ( m[ 0 ].length === 0 ) {
				re.lastIndex++;
			}
		}
		return ranges;
	}

	/**
	 * Where a reference's anchor sentence is in the text: a copy outside comments and nowiki,
	 * the one followed by the text the reference replaces when there is one, else the first.
	 *
	 * @param {string} text
	 * @param {string} anchor
	 * @param {string} replace
	 * @return {number} -1 when there is none
	 */
	function anchorPosition( text, anchor, replace ) {
		var ranges = inertRanges( text ), first = -1, at = text.indexOf( anchor );
		while ( at !== -1 ) {
			if ( !inRanges( ranges, at ) ) {
				if ( !replace || text.slice( at + anchor.length, at + anchor.length + replace.length ) === replace ) {
					return at;
				}
				if ( first === -1 ) {
					first = at;
				}
			}
			at = text.indexOf( anchor, at + 1 );
		}
		return first;
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
		// Direction marks and embeddings (often at the end of a link typed in Indic or
		// right-to-left text) are no part of a title: MediaWiki drops them.
		name = String( name ).replace( /[\u200e\u200f\u202a-\u202e]/g, '' )
			.replace( /[ _]+/g, ' ' ).trim();
		return upperFirst( name );
	}

	// Code points (one, or the first and last of a range) of the first letters that
	// upperFirst keeps.
	var KEPT_FIRST_LETTERS = [ [ 0x01c5 ], [ 0x01c8 ], [ 0x01cb ], [ 0x01f2 ], [ 0x0345 ],
		[ 0x10d0, 0x10fa ], [ 0x10fd, 0x10ff ], [ 0x2170, 0x217f ], [ 0x24d0, 0x24e9 ], [ 0xa7b9 ],
		[ 0x16e60, 0x16e7f ] ];

	/**
	 * The first letter upper case as Wikimedia's wikis make it ($wgOverrideUcfirstCharacters,
	 * as suggest/wiki/wikitext.py's upper_first): only one letter for one ("ß" stays),
	 * Georgian Mkhedruli, titlecase digraphs and letters without a capital in PHP 7.2's tables
	 * stay, and a Greek letter with ypogegrammeni takes its titlecase form ("ᾀ" → "ᾈ").
	 *
	 * @param {string} name
	 * @return {string}
	 */
	function upperFirst( name ) {
		var code = name.charCodeAt( 0 ),
			wide = code >= 0xd800 && code <= 0xdbff,
			first = wide ? name.slice( 0, 2 ) : name.charAt( 0 ),
			point = wide ? ( code - 0xd800 ) * 0x400 + name.charCodeAt( 1 ) - 0xdc00 + 0x10000 : code,
			upper;
		if ( KEPT_FIRST_LETTERS.some( function ( range ) {
			return point >= range[ 0 ] && point <= range[ range.length - 1 ];
		} ) ) {
			return name;
		}
		if ( ( code >= 0x1f80 && code <= 0x1f87 ) || ( code >= 0x1f90 && code <= 0x1f97 ) ||
			( code >= 0x1fa0 && code <= 0x1fa7 ) ) {
			upper = String.fromCharCode( code + 8 );
		} else if ( code === 0x1fb3 || code === 0x1fc3 || code === 0x1ff3 ) {
			upper = String.fromCharCode( code + 9 );
		} else {
			upper = first.toUpperCase();
		}
		return ( upper.length === first.length ? upper : first ) + name.slice( first.length );
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
	 * Whether this wiki's articles end with their stub templates, after the categories (English
	 * Wikipedia's order). The Bengali, Japanese, Ukrainian and Vietnamese Wikipedias, among
	 * others, put the stub templates before the categories: there a category goes at the end.
	 *
	 * @return {boolean}
	 */
	function stubsFollowCategories() {
		return String( mw.config.get( 'wgContentLanguage' ) || 'en' ).split( '-' )[ 0 ] === 'en';
	}

	/**
	 * Where a run of stub templates at the end of the text starts (categories go before them
	 * where the wiki's order has it so), or -1.
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
	 * line at the end of the text (before the stub templates that end it, on wikis whose
	 * articles end with them). References go right after their anchor; a citation-needed
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
			replace = typeof insert.replace === 'string' ? insert.replace : '';
			anchorAt = anchorPosition( text, insert.anchor, replace );
			if ( anchorAt === -1 ) {
				return null;
			}
			start = anchorAt + insert.anchor.length;
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
		start = stubsFollowCategories() ? trailingStubsStart( trimmed ) : -1;
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

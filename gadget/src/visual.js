/**
 * wiki-suggest gadget: VisualEditor: the panel above the document. In source mode suggestions go
 * into the wikitext as in the source editor; in visual mode categories become VisualEditor's own
 * category items and references the Cite extension's nodes.
 *
 * A part of gadget/src/wiki-suggest.js: gadget/build.mjs puts it in place of the line
 * `// build:include visual.js`, inside that script's function, where it shares the script's
 * constants and helpers. Checked with all the rules once assembled (gadget/dist/).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
	/* ------------------------------------------------------------------ VisualEditor */

	/**
	 * Surface adapter for VisualEditor's visual mode. Its text is the page's category links,
	 * one per line, in the document's order, read from VisualEditor's category items: the panel
	 * places and finds its insertions in that text with the same rules as in the source editor.
	 * Setting a text makes the document's categories those of the text: the ones no longer in
	 * it are removed, the new ones added at the end (VisualEditor writes each category link
	 * where it was, and new ones after the others).
	 *
	 * @param {Object} surfaceModel VisualEditor's surface model (ve.dm.Surface)
	 * @return {{getText: Function, setText: Function, replace: Function, select: Function}}
	 */
	function createVisualSurface( surfaceModel ) {
		var metaList = surfaceModel.getMetaList(),
			nsNames = categoryNamespaceNames(),
			prefix = ( mw.config.get( 'wgFormattedNamespaces' ) || {} )[ 14 ] || 'Category';

		function categoryItems() {
			return metaList.getItemsInGroup( 'mwCategory' );
		}

		function linkOf( item ) {
			var attributes = item.getElement().attributes || {};
			return '[[' + attributes.category + ( attributes.sortkey ? '|' + attributes.sortkey : '' ) + ']]';
		}

		function nameOf( link ) {
			var found = categoryLinks( link, nsNames );
			return found.length ? found[ 0 ].name : null;
		}

		return {
			getText: function () {
				return categoryItems().map( linkOf ).join( '\n' );
			},
			setText: function ( text ) {
				var wanted = categoryLinks( text, nsNames ).map( function ( link ) {
						return link.name;
					} ),
					kept = [];
				categoryItems().forEach( function ( item ) {
					var name = nameOf( linkOf( item ) );
					if ( name !== null && !contains( wanted, name ) ) {
						metaList.removeMeta( item );
					} else {
						kept.push( name );
					}
				} );
				wanted.forEach( function ( name ) {
					if ( !contains( kept, name ) ) {
						metaList.insertMeta( {
							type: 'mwCategory',
							attributes: { category: prefix + ':' + name, sortkey: '' }
						} );
						kept.push( name );
					}
				} );
			},
			replace: function ( start, length, text ) {
				var current = this.getText();
				this.setText( current.slice( 0, start ) + text + current.slice( start + length ) );
			},
			select: function () {
				// Categories have no place in the visual text to select.
			}
		};
	}

	/**
	 * A template's name as MediaWiki reads it, without its namespace: from a transclusion's
	 * wikitext ("{{cn|date=May 2016}}") or a name ("Template:Cn"); '' for anything else.
	 *
	 * @param {string} text
	 * @return {string}
	 */
	function mwTemplateName( text ) {
		var name = String( text ).trim(), local = ( mw.config.get( 'wgFormattedNamespaces' ) || {} )[ 10 ], colon;
		if ( name.indexOf( '{{' ) === 0 ) {
			name = name.slice( 2 ).split( /[|}]/ )[ 0 ];
		}
		colon = name.indexOf( ':' );
		if ( colon !== -1 && contains( [ 'template', String( local || '' ).toLowerCase() ],
			name.slice( 0, colon ).trim().toLowerCase() ) ) {
			name = name.slice( colon + 1 );
		}
		return name.trim() ? normaliseTitle( name ) : '';
	}

	// Characters that end a sentence: the service's (suggest/wiki/references.py STOPS).
	var STOPS = '.!?\u0964\u3002\uff01\uff1f';

	/**
	 * How many of a statement's last characters a reference goes before: its full stop (and
	 * the like) when the reference's anchor, the statement's wikitext up to where the reference
	 * goes, does not end with it, as where an article cites before the full stop
	 * ("出身である<ref/>。"). Only for a reference that replaces nothing: a citation-needed
	 * template's place is where the template is.
	 *
	 * @param {Object} insert The suggestion's insert (statement, anchor, replace)
	 * @return {number}
	 */
	function stopsAfterReference( insert ) {
		var statement = String( insert.statement || '' ).trim(),
			anchor = String( insert.anchor || '' ).trim(),
			stops = 0, kept = 0;
		if ( insert.replace || anchor.slice( -2 ) === '}}' ) {
			return 0;
		}
		while ( stops < statement.length && STOPS.indexOf( statement.charAt( statement.length - 1 - stops ) ) !== -1 ) {
			stops++;
		}
		while ( kept < anchor.length && STOPS.indexOf( anchor.charAt( anchor.length - 1 - kept ) ) !== -1 ) {
			kept++;
		}
		return Math.max( 0, stops - kept );
	}

	/**
	 * References in VisualEditor's visual mode, as nodes of the Cite extension: a suggestion's
	 * wikitext is turned into VisualEditor's document by Parsoid (as pasted wikitext is) and goes
	 * in right after its statement, in place of a citation-needed template there. The plan kept
	 * for it names the reference node (its list key) and holds the template it replaced, so that
	 * Undo can put that back.
	 *
	 * @param {Object} adapter The visual surface's adapter (createVisualSurface), which this
	 *  gives insertReference, removeReference, holdsReference and locateStatement (see
	 *  Panel.accept)
	 * @param {Object} surface VisualEditor's surface (ve.ui.Surface) in visual mode
	 * @param {Object} target VisualEditor's target (ve.init.mw.ArticleTarget)
	 * @return {Object} The adapter
	 */
	function addVisualReferences( adapter, surface, target ) {
		var ve = window.ve,
			model = surface.getModel();

		// Where the statement is in the document's text (the first place), else where it is once
		// templates' output is left out, else the template that holds it; or null.
		function statementRange( insert ) {
			var found = typeof insert.statement === 'string' && insert.statement ?
				model.getDocument().findText( insert.statement, { caseSensitiveString: true, noOverlaps: true } ) : [];
			return found.length ? found[ 0 ] : textRange( squashed( insert.statement || '' ) ) || holderRange( insert );
		}

		// Text with its runs of spaces as one space, for comparing what a page shows.
		function squashed( text ) {
			return String( text ).replace( /\s+/g, ' ' ).trim();
		}

		/**
		 * The first range of the document's text that reads as ``statement`` (squashed) when
		 * the document's inline nodes are left out, an entity being the character it stands
		 * for, and runs of spaces are one space; or null. This is how the service reads a
		 * statement from the wikitext: a template's output ({{lang}}, {{convert}}, {{仮リンク}}),
		 * a footnote or a formula inside it is no part of its text. Within one paragraph (or
		 * other block of text).
		 *
		 * @param {string} statement
		 * @return {Object|null} A ve.Range from the statement's first character to its last
		 */
		function textRange( statement ) {
			var data = model.getDocument().data,
				whole = model.getDocument().getDocumentRange(),
				text = '', starts = [], ends = [], i, type, character, found;
			// The place of the statement in the block of text read so far, or null.
			function inBlock() {
				var at = statement ? text.indexOf( statement ) : -1;
				return at === -1 ? null :
					new ve.Range( starts[ at ], ends[ at + statement.length - 1 ] );
			}
			// One character of the text, taking the document's offsets start to end.
			function read( char, start, end ) {
				if ( /\s/.test( char ) ) {
					if ( !text || text.charAt( text.length - 1 ) === ' ' ) {
						return;
					}
					char = ' ';
				}
				text += char;
				starts.push( start );
				ends.push( end );
			}
			for ( i = whole.start; i < whole.end; i++ ) {
				if ( !data.isElementData( i ) ) {
					read( data.getCharacterData( i ), i, i + 1 );
					continue;
				}
				type = data.getType( i );
				if ( ve.dm.nodeFactory.isNodeContent( type ) ) {
					character = data.isOpenElementData( i ) && type === 'mwEntity' &&
						ve.getProp( data.getData( i ), 'attributes', 'character' );
					if ( character ) {
						read( character, i, i + 2 ); // the entity's node, opening and closing
					}
					continue;
				}
				found = inBlock(); // a block of text ends (or another starts)
				if ( found ) {
					return found;
				}
				text = '';
				starts = [];
				ends = [];
			}
			return inBlock();
		}

		// A statement whose text a citation-needed template holds ({{要出典範囲|text|date=...}}):
		// its anchor is that template, and the document has it as a template node, which
		// shows the text. The range of the first such node of that template showing the
		// statement, or null.
		function holderRange( insert ) {
			var doc = model.getDocument(),
				anchor = typeof insert.anchor === 'string' ? insert.anchor : '',
				name = anchor.indexOf( '{{' ) === 0 ? mwTemplateName( anchor ) : '',
				statement = squashed( insert.statement || '' ),
				found;
			if ( !name || !statement ) {
				return null;
			}
			found = doc.getNodesByType( 'mwTransclusionInline' ).filter( function ( node ) {
				var parts = node.getAttribute( 'mw' ).parts || [],
					template = parts.length === 1 && ve.getProp( parts[ 0 ], 'template', 'target', 'wt' ),
					shown = ( node.getOriginalDomElements( doc.getStore() ) || [] ).map( function ( element ) {
						return element.textContent;
					} ).join( '' );
				return template && mwTemplateName( template ) === name && squashed( shown ).indexOf( statement ) !== -1;
			} );
			return found.length ? found[ 0 ].getOuterRange() : null;
		}

		// The range the reference takes: the template the suggestion replaces when it follows
		// the statement (the same template, by name; footnotes and spaces may stand between, as
		// in the wikitext), else the statement's end, before its full stop where the anchor
		// ends before it (stopsAfterReference).
		function placeAfter( insert, statement ) {
			var data = model.getDocument().data, offset = referencesFrom( statement.end ).end,
				before = stopsAfterReference( insert ),
				replaced = mwTemplateName( typeof insert.replace === 'string' ? insert.replace : '' ),
				element = data.getData( offset ), parts, template;
			parts = ve.getProp( element, 'attributes', 'mw', 'parts' ) || [];
			template = parts.length === 1 && ve.getProp( parts[ 0 ], 'template', 'target', 'wt' );
			if ( replaced && element && element.type === 'mwTransclusionInline' && template &&
				mwTemplateName( template ) === replaced ) {
				return new ve.Range( offset, offset + 2 );
			}
			return new ve.Range( statement.end - before );
		}

		// The reference nodes (and spaces) from ``offset`` on: the nodes' offsets, and where
		// they end.
		function referencesFrom( offset ) {
			var data = model.getDocument().data, element = data.getData( offset ), nodes = [];
			while ( element && ( element.type === 'mwReference' || element === ' ' ) ) {
				if ( element.type ) {
					nodes.push( offset );
				}
				offset += element.type ? 2 : 1; // an inline node is its opening and closing
				element = data.getData( offset );
			}
			return { nodes: nodes, end: offset };
		}

		// The reference nodes of one footnote (its uses).
		function footnoteUses( listKey, listGroup ) {
			return model.getDocument().getNodesByType( 'mwReference' ).filter( function ( node ) {
				return node.getAttribute( 'listKey' ) === listKey && node.getAttribute( 'listGroup' ) === listGroup;
			} );
		}

		/**
		 * Where the reference added for a statement is: the one reference node right after the
		 * statement, or right before its full stop where the reference goes there
		 * (stopsAfterReference). The task suggests references for statements that cite none.
		 *
		 * @param {Object} insert The suggestion's insert
		 * @return {number|null} The node's offset, or null when there is not exactly one
		 */
		function placedReference( insert ) {
			var data = model.getDocument().data, statement = statementRange( insert ),
				before = stopsAfterReference( insert ), found = [], offset;
			if ( !statement ) {
				return null;
			}
			if ( before ) { // the statement's text reads across the node
				offset = statement.end - before;
				while ( ve.getProp( data.getData( offset - 1 ), 'type' ) === '/mwReference' ) {
					offset -= 2;
					found.push( offset );
				}
			} else {
				found = referencesFrom( statement.end ).nodes;
			}
			return found.length === 1 ? found[ 0 ] : null;
		}

		// The node a plan names: its footnote's only use, or, for a footnote used elsewhere too
		// (plan.insert), the use at the statement's place; or null.
		function referenceNode( plan ) {
			var uses = footnoteUses( plan.listKey, plan.listGroup ), offset;
			if ( !plan.insert ) {
				return uses[ 0 ] || null;
			}
			offset = placedReference( plan.insert );
			return uses.filter( function ( node ) {
				return node.getOuterRange().start === offset;
			} )[ 0 ] || null;
		}

		// A footnote's text as the page shows it (runs of spaces as one space).
		function footnoteText( node ) {
			var item = node.getInternalItem();
			return item ? squashed( node.getDocument().data.getText( false, item.getRange() ) ) : '';
		}

		/**
		 * The document's use of the footnote a suggestion's parsed reference is another use of,
		 * or null (a new footnote):
		 * - a reuse tag (<ref name="x" />, no text of its own) names it. The parsed node's own
		 *   key is not that name: VisualEditor gives a reference it reads next to the document
		 *   a key of its own ("x2");
		 * - a reference the article cites without a name (insert.names_reference, which the
		 *   source editors name at both uses) is the first unnamed footnote with its text (the
		 *   one the source editors name when the article has it twice), or the footnote of that
		 *   name when the source editor named it. VisualEditor names both uses of an unnamed
		 *   footnote on saving, as after its Re-use dialog.
		 *
		 * @param {Object} document The parsed reference (parsed)
		 * @param {Object} insert The suggestion's insert
		 * @return {Object|null} A ve.dm.MWReferenceNode of the document
		 */
		function reusedNode( document, insert ) {
			var made = document.getNodesByType( 'mwReference' ),
				mwData = made.length === 1 ? made[ 0 ].getAttribute( 'mw' ) || {} : {},
				name = ve.getProp( mwData, 'attrs', 'name' ), text, same;
			if ( made.length !== 1 ) {
				return null;
			}
			if ( insert.names_reference ) {
				// Named already (by the source editor, before a switch to this mode)
				same = footnoteUses( 'literal/' + ve.getProp( insert, 'names_reference', 'name' ),
					made[ 0 ].getAttribute( 'listGroup' ) );
				if ( same.length ) {
					return same[ 0 ];
				}
				text = footnoteText( made[ 0 ] );
				same = text ? model.getDocument().getNodesByType( 'mwReference' ).filter( function ( node ) {
					return String( node.getAttribute( 'listKey' ) ).indexOf( 'auto/' ) === 0 &&
						node.getAttribute( 'listGroup' ) === made[ 0 ].getAttribute( 'listGroup' ) &&
						footnoteText( node ) === text;
				} ) : [];
				return same[ 0 ] || null;
			}
			if ( typeof name !== 'string' || mwData.body || made[ 0 ].getAttribute( 'contentsUsed' ) ) {
				return null;
			}
			return footnoteUses( 'literal/' + name, made[ 0 ].getAttribute( 'listGroup' ) )[ 0 ] || null;
		}

		// The document Parsoid makes of a wikitext, as for pasted wikitext: a promise of it, or
		// of false when the wiki did not make one.
		function parsed( wikitext ) {
			var doc = model.getDocument();
			return Promise.resolve( target.parseWikitextFragment( wikitext, false, doc ) ).then( function ( response ) {
				var html = ve.getProp( response, 'visualeditor', 'content' );
				if ( ve.getProp( response, 'visualeditor', 'result' ) !== 'success' || !html ) {
					return false;
				}
				return ve.ui.MWWikitextStringTransferHandler.static.createDocumentFromParsoidHtml( html, doc );
			}, function () {
				return false;
			} );
		}

		// Put a parsed document's first paragraph's content in place of ``range``.
		function putDocument( range, document ) {
			var first = document.getDocumentNode().children[ 0 ];
			model.getLinearFragment( range ).insertDocument( document, first && first.getRange() );
		}

		// The plan of the reference node at ``offset``, added for the suggestion's ``insert``,
		// or null when there is none. A footnote used elsewhere too is found by that place.
		function planAt( offset, insert, replaced, restore ) {
			var element = model.getDocument().data.getData( offset );
			if ( !element || element.type !== 'mwReference' ) {
				return null;
			}
			return {
				node: 'mwReference',
				listKey: element.attributes.listKey,
				listGroup: element.attributes.listGroup,
				insert: footnoteUses( element.attributes.listKey, element.attributes.listGroup ).length > 1 ?
					insert : undefined,
				replaced: replaced,
				restore: restore
			};
		}

		/**
		 * @param {Object} suggestion
		 * @return {Promise<Object|null|false>} The plan; null when the statement is not found,
		 *  false when the wiki did not turn the wikitext into VisualEditor's document
		 */
		adapter.insertReference = function ( suggestion ) {
			var insert = suggestion.insert || {}, doc = model.getDocument();
			if ( !statementRange( insert ) ) {
				return Promise.resolve( null );
			}
			return parsed( suggestion.wikitext ).then( function ( document ) {
				// Found again: the editor may have typed while Parsoid answered.
				var statement = statementRange( insert ), range, replaced, reused;
				if ( !document ) {
					return false;
				}
				if ( !statement ) {
					return null;
				}
				range = placeAfter( insert, statement );
				replaced = range.isCollapsed() ? null : doc.data.getDataSlice( range, true );
				reused = reusedNode( document, insert );
				if ( reused ) { // another use of that footnote, as VisualEditor's Re-use dialog adds it
					ve.dm.MWReferenceModel.static.newFromReferenceNode( reused )
						.insertReferenceNode( model.getLinearFragment( range ) );
				} else {
					putDocument( range, document );
				}
				return planAt( range.start, insert, replaced );
			} );
		};

		/**
		 * The plan of a reference added in source mode before VisualEditor switched to this one:
		 * the one reference node at its statement's place (placedReference).
		 *
		 * @param {Object} suggestion
		 * @param {string} replaced The wikitext of the template it took the place of ('' for none),
		 *  which Undo puts back
		 * @return {Object|null}
		 */
		adapter.adoptReference = function ( suggestion, replaced ) {
			var offset = placedReference( suggestion.insert || {} );
			return offset === null ? null : planAt( offset, suggestion.insert, null, replaced || undefined );
		};

		/**
		 * Take a reference node out again, putting back the template it replaced.
		 *
		 * @param {Object} plan
		 * @return {boolean|Promise<boolean>} Whether it was done; a promise when the template
		 *  must first be made from its wikitext (plan.restore)
		 */
		adapter.removeReference = function ( plan ) {
			var node = referenceNode( plan ), fragment;
			if ( !node ) {
				return false;
			}
			if ( plan.restore && !plan.replaced ) {
				return parsed( plan.restore ).then( function ( document ) {
					// Found again: the editor may have changed the document while Parsoid answered.
					var now = referenceNode( plan );
					if ( !document || !now ) {
						return false;
					}
					putDocument( now.getOuterRange(), document );
					return true;
				} );
			}
			fragment = model.getLinearFragment( node.getOuterRange() );
			if ( plan.replaced ) {
				fragment.insertContent( plan.replaced );
			} else {
				fragment.removeContent();
			}
			return true;
		};
		adapter.holdsReference = function ( plan ) {
			return !!referenceNode( plan );
		};
		adapter.locateStatement = function ( insert ) {
			var statement = statementRange( insert );
			if ( !statement ) {
				return false;
			}
			model.setLinearSelection( statement );
			surface.scrollSelectionIntoView();
			return true;
		};
		return adapter;
	}

	/**
	 * Surface adapter for VisualEditor's source mode, whose document is the page's wikitext:
	 * offsets in the text are turned into the document's ranges by VisualEditor itself.
	 *
	 * @param {Object} surface VisualEditor's surface (ve.ui.Surface) in source mode
	 * @return {{getText: Function, setText: Function, replace: Function, select: Function}}
	 */
	function createSourceModeSurface( surface ) {
		var model = surface.getModel();
		return {
			getText: function () {
				return model.getDom();
			},
			setText: function ( text ) {
				this.replace( 0, this.getText().length, text );
			},
			replace: function ( start, length, text ) {
				var fragment = model.getLinearFragment( model.getRangeFromSourceOffsets( start, start + length ) );
				if ( text ) {
					fragment.insertContent( text );
				} else {
					fragment.removeContent();
				}
			},
			select: function ( start, end ) {
				model.setLinearSelection( model.getRangeFromSourceOffsets( start, end ) );
				surface.scrollSelectionIntoView();
			}
		};
	}

	/**
	 * The panel of a VisualEditor session, above the document, in either mode. On save, the
	 * accepted suggestions go into the edit summary as in the source editor, and the saved
	 * revision is reported once VisualEditor has saved it.
	 *
	 * @class
	 * @param {Object} config From readConfig()
	 * @param {Outbox} outbox
	 */
	function VisualSession( config, outbox ) {
		this.config = config;
		this.outbox = outbox;
		this.panel = null;
		this.target = null;
		this.saving = false;
	}

	/**
	 * Start the panel for the editor that has just opened (ve.activationComplete).
	 *
	 * @return {Promise<Panel|null>}
	 */
	VisualSession.prototype.start = function () {
		var session = this,
			ve = window.ve,
			target = ve && ve.init && ve.init.target,
			surface = target && target.getSurface && target.getSurface(),
			mode = surface && surface.getMode(),
			// What the editor decided in the panel this one replaces (VisualEditor switched mode).
			before = this.panel ? this.panel.items : [],
			// Of its accepted suggestions, those still in its document as VisualEditor switched.
			present = this.panel ? presentIn( this.panel ) : null,
			client, panel;
		this.stop();
		if ( !surface || ( mode !== 'visual' && mode !== 'source' ) || !isSavedArticle() ||
			// Only whole-page edits, as in the source editor.
			( target.section !== null && target.section !== undefined )
		) {
			return Promise.resolve( null );
		}
		client = new Client( this.config.backend, this.config.timeout );
		this.target = target;
		this.panel = new Panel( this.config, mode === 'source' ? createSourceModeSurface( surface ) :
			addVisualReferences( createVisualSurface( surface.getModel() ), surface, target ), client, this.outbox );
		// Classes: wiki-suggest-panel-visual, wiki-suggest-panel-source
		// eslint-disable-next-line mediawiki/class-doc
		this.panel.$panel.addClass( 'wiki-suggest-panel-' + mode );
		surface.$element.before( this.panel.$panel );
		// Read when VisualEditor sends the save: the summary in its save dialog, with the marker.
		target.saveFields.wpSummary = function () {
			return session.summary();
		};
		panel = this.panel;
		return client.getPageSuggestions( this.config.tasks ).then( function ( results ) {
			if ( session.panel !== panel ) {
				// VisualEditor closed or switched mode meanwhile: that panel is gone.
				return null;
			}
			panel.render( results, carriedOver( panel.surface, before, present ), before.filter( function ( item ) {
				return item.state === 'rejected' || item.state === 'skipped';
			} ) );
			return panel;
		} );
	};

	/**
	 * The accepted items of a panel VisualEditor replaced on switching mode, for the new one:
	 * each is still accepted (not offered again, not reported again), with a plan in the new
	 * mode's terms where one can be made, so that Undo takes it out again and the save's summary
	 * marker and report count it:
	 * - a category: its link found in the new text;
	 * - a reference in source mode: its wikitext found once in the text (Parsoid writes a
	 *   reference VisualEditor took from wikitext as that wikitext), or a reuse tag Parsoid
	 *   wrote in its own form (reuseInText), Undo putting back the citation-needed template it
	 *   replaced;
	 * - a reference in visual mode: the one reference node right after its statement
	 *   (the surface's adoptReference).
	 * Otherwise none, and none for an addition that was no longer in the replaced panel's
	 * document (so that an addition the editor replaced by hand with a reference of their own is
	 * not taken for that): Undo then says to remove it by hand, and it is not in the marker or
	 * the report.
	 *
	 * @param {Object} surface The new panel's surface adapter
	 * @param {Object[]} items The replaced panel's items
	 * @param {Object[]|null} present Those of its accepted items that were still in its document
	 *  (null: not known)
	 * @return {Array<{suggestion: Object, plan: (Object|null)}>}
	 */
	function carriedOver( surface, items, present ) {
		var text = surface.getText();
		return items.filter( function ( item ) {
			return item.state === 'accepted';
		} ).map( function ( item ) {
			var suggestion = item.suggestion, link = String( suggestion.wikitext ),
				insert = suggestion.insert || {}, at;
			if ( present && !contains( present, item ) ) {
				return { suggestion: suggestion, plan: null };
			}
			if ( insert.kind === 'reference' ) {
				return { suggestion: suggestion, plan: surface.adoptReference ?
					surface.adoptReference( suggestion, replacedText( item.plan, insert ) ) :
					referenceInText( text, suggestion, replacedText( item.plan, insert ) ) };
			}
			at = text.indexOf( link );
			if ( at === -1 ) {
				return { suggestion: suggestion, plan: null };
			}
			// With the line break before it, as the insertion rules add a category on a new line.
			return text.charAt( at - 1 ) === '\n' ?
				{ suggestion: suggestion, plan: { start: at - 1, removed: '', inserted: '\n' + link } } :
				{ suggestion: suggestion, plan: { start: at, removed: '', inserted: link } };
		} );
	}

	/**
	 * A replaced panel's accepted items still in its document. VisualEditor calls the gadget
	 * once the new mode is ready; the old mode's document can still be read then.
	 *
	 * @param {Panel} panel
	 * @return {Object[]|null} null when its document could not be read
	 */
	function presentIn( panel ) {
		try {
			return panel.inDocument();
		} catch ( e ) {
			return null;
		}
	}

	/**
	 * The wikitext of the citation-needed template an added reference took the place of, by
	 * its plan in the mode it was added in ('' for none).
	 *
	 * @param {Object|null} plan
	 * @param {Object} insert The suggestion's insertion place
	 * @return {string}
	 */
	function replacedText( plan, insert ) {
		var replaced = plan && ( plan.node ? ( plan.replaced ? insert.replace : plan.restore ) : plan.removed );
		return typeof replaced === 'string' ? replaced : '';
	}

	/**
	 * The source-mode plan of a reference found in the text: its wikitext, once.
	 *
	 * @param {string} text
	 * @param {Object} suggestion
	 * @param {string} replaced The template it took the place of
	 * @return {Object|null}
	 */
	function referenceInText( text, suggestion, replaced ) {
		var wikitext = String( suggestion.wikitext ), at = text.indexOf( wikitext );
		if ( at === -1 ) {
			return reuseInText( text, suggestion, replaced );
		}
		if ( text.indexOf( wikitext, at + 1 ) !== -1 ) {
			return null;
		}
		return { start: at, removed: replaced, inserted: wikitext };
	}

	// The <ref> tags with a name and no other attribute, outside comments and nowiki: each
	// {start, tag, name}; `closed`: reuse tags (<ref name="x" />), else the opening tags of
	// footnotes' text.
	function namedRefTags( text, closed ) {
		var re = new RegExp( '<ref\\s+name\\s*=\\s*(?:"([^"]*)"|\'([^\']*)\'|([^\\s"\'/>]+))\\s*' +
				( closed ? '/' : '' ) + '>', 'gi' ),
			inert = inertRanges( text ), tags = [], m;
		while ( ( m = re.exec( text ) ) !== null ) {
			if ( !inRanges( inert, m.index ) ) {
				tags.push( { start: m.index, tag: m[ 0 ], name: m[ 1 ] || m[ 2 ] || m[ 3 ] || '' } );
			}
		}
		return tags;
	}

	/**
	 * The source-mode plan of a reuse of one of the article's footnotes as Parsoid wrote it
	 * after VisualEditor added it (the suggestion's own wikitext is not in the text): the reuse
	 * tag right after the statement, when it names the footnote the suggestion reuses.
	 * - A named footnote: the tag has its name (Parsoid may write `<ref name="x"/>` for
	 *   `<ref name="x" />`).
	 * - An unnamed one (insert.names_reference): the footnote of the tag's name has the original's
	 *   text. VisualEditor named it for this reuse (`<ref name=":0">`); when no other tag uses
	 *   that name, Undo gives the footnote back its first form too (plan.rename), as the source
	 *   editors' plan does.
	 *
	 * @param {string} text
	 * @param {Object} suggestion
	 * @param {string} replaced The template it took the place of
	 * @return {Object|null}
	 */
	function reuseInText( text, suggestion, replaced ) {
		var insert = suggestion.insert || {}, naming = insert.names_reference,
			anchorAt = typeof insert.anchor === 'string' && insert.anchor ?
				anchorPosition( text, insert.anchor, '' ) : -1,
			start = anchorAt + String( insert.anchor ).length,
			reuses = namedRefTags( text, true ),
			reuse = reuses.filter( function ( tag ) {
				return tag.start === start;
			} )[ 0 ],
			original, definition, end, defined, plan;
		function sameName( tag ) {
			return tag.name === reuse.name;
		}
		if ( anchorAt === -1 || !reuse ) {
			return null;
		}
		plan = { start: start, removed: replaced, inserted: reuse.tag };
		if ( !isPlainObject( naming ) ) {
			return namedRefTags( String( suggestion.wikitext ), true ).some( sameName ) ? plan : null;
		}
		original = String( naming.original || '' );
		definition = namedRefTags( text, false ).filter( sameName )[ 0 ];
		end = definition ? text.indexOf( '</ref>', definition.start ) : -1;
		defined = end === -1 ? '' : text.slice( definition.start, end + '</ref>'.length );
		if ( !defined || !/^<ref\s*>/i.test( original ) ||
			definition.tag + original.replace( /^<ref\s*>/i, '' ) !== defined ) {
			return null;
		}
		if ( reuses.filter( sameName ).length === 1 ) {
			plan.rename = { start: definition.start, removed: original, inserted: defined };
		}
		return plan;
	}

	/**
	 * The edit summary to save: the one in VisualEditor's save dialog, with the marker of the
	 * accepted suggestions that are still in the document; the decided suggestions are kept
	 * for the report after the save (Panel.onSubmit).
	 *
	 * @return {string}
	 */
	VisualSession.prototype.summary = function () {
		var target = this.target,
			$field = $( '<input>' ).val( target.saveDialog ?
				target.saveDialog.editSummaryInput.getValue() :
				( target.editSummaryValue || target.initialEditSummary || '' ) );
		this.panel.onSubmit( true, $field );
		this.saving = true;
		return String( $field.val() );
	};

	/**
	 * After VisualEditor saved (postEdit): report the accepted suggestions with the new
	 * revision, as the page view after a save in the source editor does.
	 *
	 * @return {Promise<boolean>}
	 */
	VisualSession.prototype.saved = function () {
		if ( !this.saving ) {
			return Promise.resolve( false );
		}
		this.saving = false;
		return reportSavedEdit( this.config, this.outbox );
	};

	/**
	 * The editor closed (ve.deactivationComplete), or opened again: no panel, no summary field.
	 */
	VisualSession.prototype.stop = function () {
		if ( this.panel ) {
			this.panel.$panel.remove();
			this.panel = null;
		}
		if ( this.target && this.target.saveFields ) {
			delete this.target.saveFields.wpSummary;
		}
		this.target = null;
	};

	/**
	 * Follow VisualEditor on this page view: a panel each time it opens, in either mode.
	 *
	 * @param {Object} config From readConfig()
	 * @param {Outbox} outbox
	 * @return {VisualSession}
	 */
	function followVisualEditor( config, outbox ) {
		var session = new VisualSession( config, outbox );
		mw.hook( 've.activationComplete' ).add( function () {
			session.start();
		} );
		mw.hook( 've.deactivationComplete' ).add( function () {
			session.stop();
		} );
		mw.hook( 'postEdit' ).add( function () {
			session.saved();
		} );
		return session;
	}

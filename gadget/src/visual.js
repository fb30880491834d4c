/**
 * wiki-suggest gadget: VisualEditor: the panel above the document; in visual mode the category
 * suggestions, added as VisualEditor's own category items; in source mode every task's, in the
 * wikitext as in the source editor.
 *
 * A part of gadget/src/wiki-suggest.js: gadget/build.mjs puts it in place of the line
 * `// build:include visual.js`, inside that script's function, where it shares the script's
 * constants and helpers. Checked with all the rules once assembled (gadget/dist/).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
	/* ------------------------------------------------------------------ VisualEditor */

	// The tasks whose suggestions the visual mode can take: a category is an item of the
	// document's metadata. A reference would be a node of the Cite extension in the text.
	var VISUAL_TASKS = [ 'categories' ];

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
	 * The panel of a VisualEditor session, above the document: in visual mode the categories
	 * task only, in source mode every task. On save, the accepted suggestions go into the edit
	 * summary as in the source editor, and the saved revision is reported once VisualEditor has
	 * saved it.
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
			tasks = this.config.tasks.filter( function ( task ) {
				return mode === 'source' || contains( VISUAL_TASKS, task );
			} ),
			client;
		this.stop();
		if ( !surface || ( mode !== 'visual' && mode !== 'source' ) || !tasks.length ||
			// As in the source editor: a saved page, not a redirect, the whole page.
			!mw.config.get( 'wgCurRevisionId' ) || mw.config.get( 'wgIsRedirect' ) ||
			( target.section !== null && target.section !== undefined )
		) {
			return Promise.resolve( null );
		}
		client = new Client( this.config.backend, this.config.timeout );
		this.target = target;
		this.panel = new Panel( this.config, mode === 'source' ? createSourceModeSurface( surface ) :
			createVisualSurface( surface.getModel() ), client, this.outbox );
		// Classes: wiki-suggest-panel-visual, wiki-suggest-panel-source
		// eslint-disable-next-line mediawiki/class-doc
		this.panel.$panel.addClass( 'wiki-suggest-panel-' + mode );
		surface.$element.before( this.panel.$panel );
		// Read when VisualEditor sends the save: the summary in its save dialog, with the marker.
		target.saveFields.wpSummary = function () {
			return session.summary();
		};
		return client.getPageSuggestions( tasks ).then( function ( results ) {
			if ( session.panel ) {
				session.panel.render( results, [], [] );
			}
			return session.panel;
		} );
	};

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

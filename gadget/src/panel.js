/**
 * wiki-suggest gadget: the panel: the suggestions above the edit box or VisualEditor's document, and the editor's decisions on them (Panel).
 *
 * A part of gadget/src/wiki-suggest.js: gadget/build.mjs puts it in place of the line
 * `// build:include panel.js`, inside that script's function, where it shares the script's
 * constants and helpers. Checked with all the rules once assembled (gadget/dist/).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
	/* ------------------------------------------------------------------ the panel */

	/**
	 * Button with MediaWiki's core look; type=button so that it never submits #editform.
	 *
	 * @param {string} className
	 * @param {string} label Visible text
	 * @param {string} [about] What the button acts on (a suggestion's label). The accessible
	 *  name is then the visible text followed by it, so it starts with what is seen on the
	 *  button, as voice control users say it (WCAG 2.5.3, label in name).
	 * @return {jQuery}
	 */
	function makeButton( className, label, about ) {
		// Callers pass the documented class names: the wiki-suggest-* and mw-ui-* classes.
		// eslint-disable-next-line mediawiki/class-doc
		var $button = $( '<button>' )
			.attr( 'type', 'button' )
			.addClass( 'mw-ui-button ' + className )
			.text( label );
		if ( about ) {
			$button.attr( 'aria-label', msg( 'action-label', label, about ) );
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
		if ( this.user() ) {
			this.accountLine();
		}
	}

	Panel.prototype.accepted = function () {
		return this.items.filter( function ( item ) {
			return item.state === 'accepted';
		} );
	};

	Panel.prototype.user = function () {
		return mw.config.get( 'wgUserName' );
	};

	/**
	 * A link to one of the tool's own pages, opened in a new tab.
	 *
	 * @param {string} path The page's path under the backend, e.g. '/toolcard'
	 * @param {string} className The link's class
	 * @param {string} text The link's text
	 * @return {jQuery} The link
	 */
	Panel.prototype.toolLink = function ( path, className, text ) {
		return $( '<a>' )
			.attr( {
				href: this.config.backend + path,
				target: '_blank',
				rel: 'noopener noreferrer'
			} )
			.addClass( className )
			.text( text );
	};

	Panel.prototype.disclaimer = function () {
		// What becomes of the editor's choices, and the tool's page that lists what is kept.
		return $( '<div>' )
			.addClass( 'wiki-suggest-disclaimer mw-message-box mw-message-box-notice' )
			.append( $( '<span>' ).text( msg( 'disclaimer' ) + ' ' ),
				this.toolLink( '/toolcard', 'wiki-suggest-toolcard', msg( 'toolcard-link' ) ),
				$( '<span>' ).text( ' ' + msg( 'data-notice' ) + ' ' ),
				this.toolLink( '/data#published', 'wiki-suggest-data', msg( 'data-link' ) ) );
	};

	/**
	 * The account line at the foot of the panel (logged-in users; it goes in with the suggestions
	 * when the service says it can confirm accounts, `meta.account_confirmation`, see render()):
	 * "Confirm your account", a button that looks like a link, with what it is for; or
	 * "Account confirmed".
	 */
	Panel.prototype.accountLine = function () {
		var panel = this;
		this.$confirm = $( '<button>' )
			.attr( { type: 'button', 'aria-describedby': 'wiki-suggest-confirm-help' } )
			.addClass( 'wiki-suggest-confirm' )
			.text( msg( 'confirm' ) )
			.on( 'click', function () {
				panel.confirm();
			} );
		this.$confirmHelp = $( '<span>' )
			.attr( 'id', 'wiki-suggest-confirm-help' )
			.addClass( 'wiki-suggest-confirm-help' )
			.text( msg( 'confirm-help' ) );
		this.$accountStatus = $( '<span>' ).addClass( 'wiki-suggest-account-status' ).attr( 'aria-live', 'polite' );
		this.$account = $( '<div>' ).addClass( 'wiki-suggest-account' ).append( this.$accountStatus );
		// Whether the line says "Account confirmed".
		this.confirmed = null;
		this.showAccount();
	};

	/**
	 * Bring the account line up to date with the stored ticket (the service may have refused it
	 * since, or it may have run out). A note that the tool confirmed another account stays until
	 * the line changes.
	 *
	 * @param {string} [otherUser] The account the tool confirmed instead of this user's
	 */
	Panel.prototype.showAccount = function ( otherUser ) {
		var confirmed, focused;
		if ( !this.$account ) {
			return;
		}
		confirmed = !!ticketFor( mw.storage, this.user(), Date.now() );
		// The popup has the focus: document.activeElement is what had it in this window.
		focused = document.activeElement === this.$confirm[ 0 ];
		if ( confirmed ) {
			this.$confirm.add( this.$confirmHelp ).detach();
		} else if ( !this.$confirm.parent().length ) {
			this.$account.prepend( this.$confirm, ' ', this.$confirmHelp, ' ' );
		}
		if ( otherUser || confirmed !== this.confirmed ) {
			this.confirmed = confirmed;
			this.$accountStatus
				.text( confirmed ? msg( 'confirmed' ) : otherUser ? msg( 'confirm-other', otherUser ) : '' )
				.toggleClass( 'wiki-suggest-confirmed', confirmed )
				.toggleClass( 'wiki-suggest-item-error', !confirmed && !!otherUser );
		}
		if ( confirmed && focused ) {
			this.$accountStatus.attr( 'tabindex', '-1' ).trigger( 'focus' );
		}
	};

	/**
	 * Open the tool's confirmation page in a popup (in the click, so that popup blockers let it
	 * through). It logs the editor in to the tool with Wikimedia OAuth and posts a ticket back to
	 * this window (see receiveTicket()), which the outbox then sends with the decisions.
	 */
	Panel.prototype.confirm = function () {
		var panel = this;
		if ( !this.onMessage ) {
			this.onMessage = function ( event ) {
				panel.receiveTicket( event );
			};
			window.addEventListener( 'message', this.onMessage );
		}
		window.open( this.config.backend + '/confirm?origin=' + encodeURIComponent( window.location.origin ),
			'wiki-suggest-confirm', 'popup,width=600,height=700' );
	};

	/**
	 * A message to this window: the confirmation popup's
	 * `{type: 'wiki-suggest-ticket', user, ticket, expires}`, from the service's origin, is
	 * stored when it names the user logged in here; for another account the panel says so and
	 * nothing is stored. Other messages are not for the gadget.
	 *
	 * @param {MessageEvent} event
	 * @return {boolean} Whether a ticket was stored
	 */
	Panel.prototype.receiveTicket = function ( event ) {
		var data = event.data;
		if ( event.origin !== new URL( this.config.backend ).origin || !isPlainObject( data ) ||
			data.type !== 'wiki-suggest-ticket' || typeof data.user !== 'string' || !data.user ||
			typeof data.ticket !== 'string' || !data.ticket ||
			typeof data.expires !== 'number' || !isFinite( data.expires )
		) {
			return false;
		}
		if ( normaliseTitle( data.user ) !== normaliseTitle( this.user() ) ) {
			this.showAccount( data.user );
			return false;
		}
		storeTicket( mw.storage, { user: data.user, ticket: data.ticket, expires: data.expires }, Date.now() );
		this.showAccount();
		return true;
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
			carriedIds = {}, carriedText = {}, confirmable = false;
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
			// The service can confirm accounts (it has a login): see accountLine().
			confirmable = confirmable || !!( data.meta && data.meta.account_confirmation === true );
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
		this.notices = [];
		pauses.forEach( function ( reason ) {
			panel.notice( 'wiki-suggest-paused mw-message-box mw-message-box-warning',
				reason ? msg( 'paused', reason ) : msg( 'paused-noreason' ) );
		} );
		limits.slice( 0, 1 ).forEach( function ( cap ) {
			panel.notice( 'wiki-suggest-limit mw-message-box mw-message-box-notice', msg( 'limit', cap ) );
		} );
		if ( pauses.length + limits.length === results.length && results.length &&
			!carried.length && !decided.length
		) {
			// Every task is paused: show nothing but the notice.
			this.announce();
			return;
		}
		this.$body.append( this.disclaimer() );
		if ( this.$account && confirmable ) {
			this.$panel.append( this.$account );
		} else if ( this.$account ) {
			this.$account.detach();
		}
		if ( errors.length ) {
			this.notice( 'wiki-suggest-error mw-message-box mw-message-box-error', msg( 'error', errors.join( ', ' ) ) );
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
			this.notice( 'wiki-suggest-none', msg( 'none' ) );
		}
		this.$body.append( $list );
		this.announce();
	};

	/**
	 * Show a notice (pause, limit, error, nothing to suggest) in the panel's body.
	 *
	 * @param {string} classes
	 * @param {string} text
	 */
	Panel.prototype.notice = function ( classes, text ) {
		this.$body.append( $( '<div>' ).addClass( classes ).text( text ) );
		this.notices.push( text );
	};

	/**
	 * Say the notices in the status line, the live region that said "Loading…", so that a screen
	 * reader announces them (a box added to the page is not announced); the line itself is then
	 * hidden from sight, as the boxes show the same text.
	 */
	Panel.prototype.announce = function () {
		this.$status.text( this.notices.join( ' ' ) )
			.toggleClass( 'wiki-suggest-visually-hidden', this.notices.length > 0 );
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

		item.$add = makeButton( 'mw-ui-progressive wiki-suggest-add', msg( 'add' ), label );
		item.$reject = makeButton( 'mw-ui-destructive wiki-suggest-reject', msg( 'reject' ), label )
			.attr( { 'aria-expanded': 'false', 'aria-controls': commentId + '-reasons' } );
		item.$skip = makeButton( 'mw-ui-quiet wiki-suggest-skip', msg( 'skip' ), label );
		item.$undo = makeButton( 'wiki-suggest-undo', msg( 'undo' ), label );
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

		item.$add.on( 'click', function ( e ) {
			if ( !repeatedClick( e ) ) {
				panel.accept( item );
			}
		} );
		item.$reject.on( 'click', function () {
			panel.openReasons( item );
		} );
		item.$skip.on( 'click', function () {
			panel.skip( item );
		} );
		item.$undo.on( 'click', function ( e ) {
			if ( !repeatedClick( e ) ) {
				panel.undo( item );
			}
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
				makeButton( 'mw-ui-quiet wiki-suggest-locate', msg( 'locate' ), label )
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

	/**
	 * Whether a click is the second (or later) click of a double click. Undo takes Add's place
	 * (and the focus) when Add is clicked, and Add takes Undo's: the second click of a double
	 * click would take back what the first did. Keyboard activation counts no clicks (0).
	 *
	 * @param {jQuery.Event} e
	 * @return {boolean}
	 */
	function repeatedClick( e ) {
		var event = e.originalEvent || e;
		return typeof event.detail === 'number' && event.detail > 1;
	}

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
			// A request's answer: the service may have refused the ticket.
			panel.showAccount();
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
			// Cut between characters: half of a surrogate pair is not valid text (see isWellFormed()).
			body.comment = String( comment ).slice( 0, COMMENT_MAX_LENGTH ).replace( /[\uD800-\uDBFF]$/, '' );
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
			if ( item !== except && item.plan && !item.plan.node && item.state === 'accepted' ) {
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
		var insert = item.suggestion.insert || {}, anchor = insert.anchor, at;
		if ( this.surface.locateStatement ) {
			// A document that is not wikitext (VisualEditor's visual mode) finds the statement itself.
			at = this.surface.locateStatement( insert ) ? 0 : -1;
		} else {
			at = typeof anchor === 'string' && anchor ? anchorPosition( this.surface.getText(), anchor,
				typeof insert.replace === 'string' ? insert.replace : '' ) : -1;
			if ( at !== -1 ) {
				this.surface.select( at, at + anchor.length );
			}
		}
		if ( at === -1 ) {
			this.say( item, msg( 'anchor-missing' ), true );
			return false;
		}
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
		if ( !isCategory && this.surface.insertReference ) {
			// A document that is not wikitext (VisualEditor's visual mode) takes it as a node.
			return this.acceptNode( item );
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
		return this.added( item, plan );
	};

	/**
	 * The item's suggestion is in the document now, as ``plan`` says.
	 *
	 * @param {Object} item
	 * @param {Object} plan
	 * @return {Promise}
	 */
	Panel.prototype.added = function ( item, plan ) {
		item.plan = plan;
		this.setState( item, 'accepted' );
		this.say( item, msg( 'status-added' ) );
		item.$undo.trigger( 'focus' );
		// Adding again after an undo needs no second report.
		return item.posted.accept ? Promise.resolve() : this.postDecision( item, 'accept' );
	};

	/**
	 * Add a reference as a node of the document (the surface's insertReference), which takes a
	 * moment: Add is disabled meanwhile.
	 *
	 * @param {Object} item
	 * @return {Promise}
	 */
	Panel.prototype.acceptNode = function ( item ) {
		var panel = this;
		item.$add.prop( 'disabled', true );
		return this.surface.insertReference( item.suggestion ).then( function ( plan ) {
			item.$add.prop( 'disabled', false );
			if ( !plan ) {
				panel.say( item, plan === false ? msg( 'add-failed' ) : msg( 'anchor-missing' ), true );
				return null;
			}
			return panel.added( item, plan );
		} );
	};

	Panel.prototype.undo = function ( item ) {
		var panel = this, plan = item.plan, text, at, renamed = -1, removed;
		if ( plan && plan.node ) {
			removed = this.surface.removeReference( plan );
			if ( !removed || typeof removed.then !== 'function' ) {
				return this.undone( item, removed );
			}
			// The surface first makes what the reference replaced, which takes a moment.
			item.$undo.prop( 'disabled', true );
			return removed.then( function ( done ) {
				item.$undo.prop( 'disabled', false );
				return panel.undone( item, done );
			} );
		}
		text = this.surface.getText();
		at = plan ? locateInsertion( text, plan ) : -1;
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
			return this.undone( item, false );
		}
		this.surface.replace( at, plan.inserted.length, plan.removed );
		this.shiftPlans( item, at, plan.removed.length - plan.inserted.length );
		if ( plan.rename ) {
			this.surface.replace( renamed, plan.rename.inserted.length, plan.rename.removed );
			this.shiftPlans( item, renamed, plan.rename.removed.length - plan.rename.inserted.length );
		}
		return this.undone( item, true );
	};

	/**
	 * @param {Object} item
	 * @param {boolean} done Whether the suggestion was taken out of the document
	 * @return {boolean} done
	 */
	Panel.prototype.undone = function ( item, done ) {
		if ( !done ) {
			this.say( item, msg( 'undo-failed' ), true );
			return false;
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
	 * The accepted items whose additions are in the document now, as their plans say (an
	 * addition the editor deleted or changed by hand is not).
	 *
	 * @return {Object[]}
	 */
	Panel.prototype.inDocument = function () {
		var surface = this.surface, text = surface.getText();
		return this.accepted().filter( function ( item ) {
			return item.plan && ( item.plan.node ? surface.holdsReference( item.plan ) :
				locateInsertion( text, item.plan ) !== -1 );
		} );
	};

	/**
	 * Remember the decided suggestions across the form submission (a preview shows the panel
	 * again: accepted ones stay in the text, rejected and skipped ones stay decided); on a save
	 * with accepted ones, also add the marker to the edit summary.
	 *
	 * @param {boolean} isSave
	 * @param {jQuery} [$summary] The summary's field (default: the edit form's, #wpSummary)
	 */
	Panel.prototype.onSubmit = function ( isSave, $summary ) {
		// An addition the editor deleted by hand is not in this edit: not in its summary, nor
		// reported with the saved revision (its acceptance stands, as not saved).
		var accepted = this.inDocument(),
			summary, suggestions,
			decided = this.items.filter( function ( item ) {
				return item.state === 'rejected' || item.state === 'skipped';
			} );
		$summary = $summary || $( '#wpSummary' );
		summary = String( $summary.val() || '' );
		if ( this.sentMarker && summary.indexOf( this.sentMarker ) !== -1 ) {
			// What this gadget added to the summary of a save that failed (the form comes back
			// with the summary as sent): the list may differ now.
			summary = summary.replace( this.sentMarker, '' ).replace( /\s+$/, '' );
			$summary.val( summary );
		}
		this.sentMarker = '';
		if ( !accepted.length && !decided.length ) {
			clearStored();
			return;
		}
		suggestions = accepted.map( function ( item ) {
			return item.suggestion;
		} );
		if ( isSave && accepted.length ) {
			$summary.val( appendMarker(
				summary,
				summaryMarker( this.config, suggestions ),
				summaryMarker( this.config, [] ).replace( /^\s+/, '' )
			) );
			this.sentMarker = $summary.val().slice( summary.replace( /\s+$/, '' ).length ).replace( /^\s+/, '' );
		}
		writeStored( {
			wiki: mw.config.get( 'wgDBname' ),
			page: mw.config.get( 'wgPageName' ),
			baseRevid: mw.config.get( 'wgCurRevisionId' ) || 0,
			user: this.user(),
			saved: isSave,
			marker: this.sentMarker,
			ts: Date.now(),
			items: accepted.map( function ( item ) {
				return { suggestion: item.suggestion, plan: item.plan };
			} ),
			decided: decided.map( function ( item ) {
				return { suggestion: item.suggestion, state: item.state };
			} )
		} );
	};

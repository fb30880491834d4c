/*
 * The confirmation popup: hand the ticket to the wiki page that opened it, then close.
 * The ticket goes only to the origin the page names, which the tool checked is a wiki on its list.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
( function () {
	'use strict';
	var node = document.getElementById( 'confirm-ticket' );
	if ( !node ) {
		return;
	}
	var opener = window.opener;
	if ( !opener || opener.closed ) {
		node.querySelector( '.confirm-no-opener' ).hidden = false;
		return;
	}
	opener.postMessage( {
		type: node.dataset.type,
		user: node.dataset.user,
		ticket: node.dataset.ticket,
		expires: Number( node.dataset.expires )
	}, node.dataset.origin );
	node.querySelector( '.confirm-done' ).hidden = false;
	window.setTimeout( function () {
		window.close();
	}, 1500 );
}() );

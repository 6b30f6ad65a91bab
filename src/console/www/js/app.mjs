/*
 * app.mjs — the console's entry: sign-in (the access key is kept in
 * sessionStorage only, for this tab, until Sign out), the page frame
 * (header with the region picker, navigation), the router (#/type/id)
 * and the dashboard. Every screen talks to vpcd through ec2.mjs only.
 */
import { Ec2Client } from './ec2.mjs';
import { h, clear, arr, errorBox, field, values, notice } from './ui.mjs';
import { TYPES, NAV, ResourceView, countOf } from './resources.mjs';
import { renderWizard } from './wizard.mjs';

const SESSION_KEY = 'vpcd-console-session';
const REGION_DEFAULT = 'us-east-1';

const app = {
	api: null,
	session: null,
	main: null,
	view: null,		/* the current ResourceView, kept while its type stays */
	regions: [],
	navigate(hash) { location.hash = hash; },
};

function loadSession() {
	try {
		const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
		return s && s.accessKeyId && s.secretAccessKey ? s : null;
	} catch {
		return null;
	}
}

function saveSession(s) {
	if (s)
		sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
	else
		sessionStorage.removeItem(SESSION_KEY);
}

function makeClient(s) {
	const api = new Ec2Client({ accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey }, s.region);
	return api;
}

/* --- sign-in ----------------------------------------------------------------- */

function renderSignIn(root, message) {
	document.title = 'Sign in — vpcd console';
	const err = h('div', { 'aria-live': 'assertive' });
	const form = h('form', { class: 'signin', 'aria-labelledby': 'signin-title' },
		h('h1', { id: 'signin-title' }, 'Sign in to the vpcd console'),
		h('p', {}, 'Use an access key of this vpcd (its data directory\'s credentials file has one). ' +
			'The key stays in this browser tab until you sign out; every request is signed with it here, in the page.'),
		field({ name: 'accessKeyId', label: 'Access key ID', required: true, autocomplete: 'username' }),
		field({ name: 'secretAccessKey', label: 'Secret access key', type: 'password', required: true,
			autocomplete: 'current-password' }),
		field({ name: 'region', label: 'Region', value: REGION_DEFAULT, required: true }),
		err,
		h('button', { type: 'submit', class: 'primary' }, 'Sign in'));
	if (message)
		err.append(notice(message, 'info'));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clear(err);
		const v = values(form);
		const s = { accessKeyId: v.accessKeyId, secretAccessKey: v.secretAccessKey, region: v.region || REGION_DEFAULT };
		const btn = form.querySelector('button[type=submit]');
		btn.disabled = true;
		try {
			const api = makeClient(s);
			await api.call('DescribeRegions');	/* proves the key: vpcd checks the signature */
			saveSession(s);
			start();
		} catch (e) {
			err.append(errorBox(e, 'Sign-in refused'));
		} finally {
			btn.disabled = false;
		}
	});
	clear(root).append(h('main', { id: 'main', class: 'signin-page' }, form));
	form.querySelector('input').focus();
}

/* --- the frame --------------------------------------------------------------- */

function renderFrame(root) {
	const regionSel = h('select', { id: 'region', 'aria-label': 'Region' },
		h('option', { value: app.session.region }, app.session.region));
	regionSel.addEventListener('change', () => {
		app.session.region = regionSel.value;
		saveSession(app.session);
		app.api = makeClient(app.session);
		app.api.onAuthFailure = onAuthFailure;
		app.view = null;
		route();
	});
	const nav = h('nav', { 'aria-label': 'Console' },
		h('ul', {}, NAV.map(([hash, text]) =>
			h('li', {}, h('a', { href: hash, 'data-nav': hash }, text)))));
	const menu = h('button', { type: 'button', class: 'menu-toggle', 'aria-expanded': 'false',
		'aria-controls': 'sidenav', onclick: () => {
			const open = document.body.classList.toggle('nav-open');
			menu.setAttribute('aria-expanded', String(open));
		} }, 'Menu');
	nav.id = 'sidenav';
	const header = h('header', { class: 'top' },
		h('a', { class: 'skip', href: '#main', onclick: (ev) => { ev.preventDefault(); app.main.focus(); } }, 'Skip to content'),
		menu,
		h('a', { class: 'brand', href: '#/' }, 'vpcd ', h('span', {}, 'VPC console')),
		h('div', { class: 'top-right' },
			h('label', { for: 'region', class: 'inline' }, 'Region'), regionSel,
			h('span', { class: 'who', title: 'Access key ID' }, app.session.accessKeyId),
			h('button', { type: 'button', onclick: signOut }, 'Sign out')));
	app.main = h('main', { id: 'main', tabindex: '-1' });
	clear(root).append(header, h('div', { class: 'body' }, nav, app.main));
	app.regionSel = regionSel;
	loadRegions();
}

async function loadRegions() {
	try {
		const r = await app.api.call('DescribeRegions');
		app.regions = arr(r.regionInfo).map((x) => x.regionName);
		const sel = app.regionSel;
		clear(sel).append(...app.regions.map((n) => h('option', { value: n, selected: n === app.session.region }, n)));
		if (!app.regions.includes(app.session.region))
			sel.prepend(h('option', { value: app.session.region, selected: true }, app.session.region));
	} catch {
		/* the current region stays the only choice; the screen shows the error */
	}
}

function signOut() {
	saveSession(null);
	app.session = null;
	app.api = null;
	app.view = null;
	location.hash = '';
	renderSignIn(document.getElementById('app'), 'Signed out.');
}

function onAuthFailure(e) {
	/* the key was removed or the secret is wrong: back to sign-in */
	if (e.code === 'AuthFailure' || e.code === 'SignatureDoesNotMatch') {
		saveSession(null);
		renderSignIn(document.getElementById('app'), `vpcd refused the key: ${e.message}`);
	}
}

/* --- routing ------------------------------------------------------------------ */

async function route() {
	if (!app.session)
		return;
	const parts = (location.hash || '#/').slice(2).split('/').map(decodeURIComponent);
	const [type, id] = parts;
	for (const a of document.querySelectorAll('nav a'))
		a.toggleAttribute('aria-current', a.getAttribute('data-nav') === `#/${type || ''}`);
	document.body.classList.remove('nav-open');
	if (TYPES[type]) {
		if (!app.view || app.view.type !== type) {
			if (app.view)
				app.view.dispose();
			app.view = new ResourceView(app, type);
			await app.view.render(app.main, id);
		} else {
			await app.view.select(id);
		}
		return;
	}
	if (app.view)
		app.view.dispose();
	app.view = null;
	if (type === 'wizard')
		return renderWizard(app, app.main);
	return renderDashboard();
}

async function renderDashboard() {
	document.title = 'Dashboard — vpcd console';
	const grid = h('ul', { class: 'cards' });
	clear(app.main).append(
		h('h1', {}, 'VPC dashboard'),
		h('section', { class: 'hero', 'aria-labelledby': 'start-title' },
			h('h2', { id: 'start-title' }, 'Get started creating a VPC'),
			h('p', {}, 'The VPC wizard makes a VPC with public and private subnets, an internet gateway and a hardware VPN to your office in one go — and removes everything again if a step fails.'),
			h('a', { class: 'button primary', href: '#/wizard' }, 'Launch VPC Wizard')),
		h('h2', {}, `Resources in ${app.session.region}`), grid);
	await Promise.all(Object.entries(TYPES).map(async ([key, t]) => {
		const count = h('span', { class: 'count', 'aria-live': 'polite' }, '…');
		const card = h('li', { class: 'card' }, h('a', { href: `#/${key}` }, count, h('span', { class: 'what' }, t.title)));
		grid.append(card);
		try {
			count.textContent = String(await countOf(app.api, t));
		} catch (e) {
			count.textContent = '?';
			card.append(errorBox(e));
		}
	}));
}

function start() {
	app.session = loadSession();
	const root = document.getElementById('app');
	if (!app.session)
		return renderSignIn(root);
	app.api = makeClient(app.session);
	app.api.onAuthFailure = onAuthFailure;
	renderFrame(root);
	route();
}

window.addEventListener('hashchange', route);
start();

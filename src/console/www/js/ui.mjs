/*
 * ui.mjs — the console's DOM helpers: elements, labelled form fields,
 * tables, tabs (arrow keys move between them), modal dialogs (<dialog>:
 * Esc closes, focus stays inside), error boxes that show the API's words,
 * and dates in the user's locale. No framework; every control it makes
 * has a label a screen reader and a test can find it by.
 */

/* h('div', {class: 'x', onclick: fn}, child, [children], 'text') */
export function h(tag, attrs, ...children) {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false)
			continue;
		if (k.startsWith('on') && typeof v === 'function')
			el.addEventListener(k.slice(2), v);
		else if (k === 'class')
			el.className = v;
		else if (k === 'text')
			el.textContent = v;
		else if (k in el && typeof v !== 'string')
			el[k] = v;
		else
			el.setAttribute(k, v === true ? '' : v);
	}
	append(el, children);
	return el;
}

function append(el, children) {
	for (const c of children) {
		if (c === undefined || c === null || c === false)
			continue;
		if (Array.isArray(c))
			append(el, c);
		else
			el.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
}

export function clear(el) {
	while (el.firstChild)
		el.removeChild(el.firstChild);
	return el;
}

/* The list a value of an answer holds (an empty set may come back as ''). */
export function arr(x) {
	return Array.isArray(x) ? x : [];
}

export function tagValue(r, key = 'Name') {
	const t = arr(r && r.tagSet).find((t) => t.key === key);
	return t ? t.value : '';
}

/* A date of the API (ISO 8601) in the user's locale and time zone. */
export function fmtDate(iso) {
	if (!iso)
		return '';
	const d = new Date(iso);
	if (isNaN(d))
		return iso;
	return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'long' }).format(d);
}

export function dateEl(iso) {
	return h('time', { datetime: iso || '' }, fmtDate(iso));
}

let uid = 0;
export function nextId(prefix = 'f') {
	return `${prefix}-${++uid}`;
}

/* A labelled control. spec: {name, label, type: text|number|select|checkbox|
 * radio|textarea|password, value, options: [[value, text]], required,
 * placeholder, help, pattern}. Returns the wrapper; .control is the input. */
export function field(spec) {
	const id = nextId(spec.name || 'f');
	let control;
	const common = { id, name: spec.name, required: spec.required || false };
	if (spec.help)
		common['aria-describedby'] = id + '-help';
	if (spec.type === 'select') {
		control = h('select', common,
			(spec.options || []).map(([v, t]) => h('option', { value: v, selected: String(spec.value) === String(v) }, t)));
	} else if (spec.type === 'textarea') {
		control = h('textarea', Object.assign(common, { rows: spec.rows || 4, placeholder: spec.placeholder }), spec.value || '');
	} else if (spec.type === 'checkbox') {
		control = h('input', Object.assign(common, { type: 'checkbox', checked: !!spec.value }));
	} else {
		control = h('input', Object.assign(common, {
			type: spec.type || 'text', value: spec.value === undefined ? '' : String(spec.value),
			placeholder: spec.placeholder, pattern: spec.pattern, autocomplete: spec.autocomplete || 'off',
			min: spec.min, max: spec.max, spellcheck: 'false',
		}));
	}
	const label = h('label', { for: id }, spec.label);
	const wrap = h('div', { class: spec.type === 'checkbox' ? 'field check' : 'field' },
		spec.type === 'checkbox' ? [control, label] : [label, control],
		spec.help ? h('p', { class: 'help', id: id + '-help' }, spec.help) : null);
	wrap.control = control;
	return wrap;
}

/* Values of the named controls under root. */
export function values(root) {
	const out = {};
	for (const el of root.querySelectorAll('input[name], select[name], textarea[name]')) {
		if (el.type === 'checkbox')
			out[el.name] = el.checked;
		else if (el.type === 'radio') {
			if (el.checked)
				out[el.name] = el.value;
		} else
			out[el.name] = el.value.trim();
	}
	return out;
}

/* An error as the user should read it: the API's message and its code. */
export function errorText(e) {
	if (e && e.code)
		return `${e.message} (${e.code})`;
	return String(e && e.message ? e.message : e);
}

export function errorBox(e, prefix) {
	return h('div', { class: 'error', role: 'alert' }, prefix ? `${prefix}: ` : '', errorText(e));
}

export function notice(text, kind = 'info') {
	return h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

/* A table. columns: [[header, fn(row) → node|string]]; caption for
 * screen readers; empty: text when there is no row. */
export function table({ columns, rows, caption, empty = 'Nothing to show', rowClass }) {
	return h('div', { class: 'table-wrap' },
		h('table', {},
			caption ? h('caption', {}, caption) : null,
			h('thead', {}, h('tr', {}, columns.map(([t]) => h('th', { scope: 'col' }, t)))),
			h('tbody', {}, rows.length === 0
				? h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, empty))
				: rows.map((r) => h('tr', { class: rowClass ? rowClass(r) : null },
					columns.map(([title, fn]) => h('td', { 'data-label': title }, fn(r) ?? '')))))));
}

/* Tabs: [{title, render: async (panel) => void}]. Arrow keys, Home and
 * End move between them; the panel of the chosen one is rendered when
 * chosen (again each time, so that it shows fresh state). */
export function tabs(list, label = 'Details') {
	const bar = h('div', { role: 'tablist', 'aria-label': label, class: 'tabs' });
	const panel = h('div', { role: 'tabpanel', class: 'tabpanel', tabindex: '0' });
	const buttons = list.map((t, i) => h('button', {
		role: 'tab', type: 'button', id: nextId('tab'), 'aria-selected': 'false', tabindex: '-1',
		onclick: () => choose(i),
		onkeydown: (ev) => {
			const n = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: list.length - 1 }[ev.key];
			if (n === undefined)
				return;
			ev.preventDefault();
			const j = (n + list.length) % list.length;
			choose(j);
			buttons[j].focus();
		},
	}, t.title));
	bar.append(...buttons);
	let current = -1, gen = 0;
	async function choose(i) {
		if (panel.cleanup)
			panel.cleanup();
		panel.cleanup = null;
		current = i;
		buttons.forEach((b, j) => {
			b.setAttribute('aria-selected', String(j === i));
			b.tabIndex = j === i ? 0 : -1;
		});
		panel.setAttribute('aria-labelledby', buttons[i].id);
		clear(panel).append(h('p', { class: 'loading' }, 'Loading…'));
		const my = ++gen;
		const body = h('div', {});
		try {
			await list[i].render(body, panel);
			if (my === gen)
				clear(panel).append(body);
		} catch (e) {
			if (my === gen)
				clear(panel).append(errorBox(e));
		}
	}
	const el = h('div', { class: 'tabset' }, bar, panel);
	el.choose = choose;
	el.refresh = () => choose(current);
	el.dispose = () => { if (panel.cleanup) panel.cleanup(); gen++; };
	choose(0);
	return el;
}

/* A modal dialog. body: node; actions: [{label, primary, onclick(close)}].
 * Returns {el, close}; Esc or Cancel closes it; focus returns to where it
 * was. */
export function modal(title, body, actions = [], { wide = false } = {}) {
	const before = document.activeElement;
	const titleId = nextId('dlg');
	const dlg = h('dialog', { 'aria-labelledby': titleId, class: wide ? 'wide' : '' });
	const close = () => {
		dlg.close();
		dlg.remove();
		if (before && before.focus)
			before.focus();
	};
	dlg.append(h('h2', { id: titleId }, title), body,
		h('div', { class: 'actions' }, actions.map((a) => h('button', {
			type: a.submit ? 'submit' : 'button', class: a.primary ? 'primary' : '',
			onclick: a.submit ? null : () => a.onclick ? a.onclick(close) : close(),
			form: a.submit ? a.submit : null,
		}, a.label))));
	dlg.addEventListener('cancel', (ev) => { ev.preventDefault(); close(); });
	document.body.append(dlg);
	dlg.showModal();
	return { el: dlg, close };
}

export function confirmDialog(title, text, okLabel = 'Yes, delete') {
	return new Promise((resolve) => {
		const m = modal(title, h('p', {}, text), [
			{ label: 'Cancel', onclick: (close) => { close(); resolve(false); } },
			{ label: okLabel, primary: true, onclick: (close) => { close(); resolve(true); } },
		]);
		m.el.addEventListener('close', () => resolve(false));
	});
}

/* A form in a dialog: fields (specs or nodes), onSubmit(values) → a
 * promise; the API's error stays in the dialog, success closes it. */
export function formDialog({ title, fields, submitLabel = 'Create', onSubmit, intro, wide }) {
	const formId = nextId('form');
	const err = h('div', { class: 'form-error', 'aria-live': 'assertive' });
	const form = h('form', { id: formId, novalidate: false },
		intro ? h('p', {}, intro) : null,
		fields.map((f) => (f instanceof Node ? f : field(f))), err);
	let m;
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clear(err);
		const btn = m.el.querySelector('button[type=submit]');
		btn.disabled = true;
		try {
			await onSubmit(values(form), form);
			m.close();
		} catch (e) {
			err.append(errorBox(e));
		} finally {
			btn.disabled = false;
		}
	});
	m = modal(title, form, [{ label: 'Cancel' }, { label: submitLabel, primary: true, submit: formId }], { wide });
	const first = form.querySelector('input, select, textarea');
	if (first)
		first.focus();
	return m;
}

/* A link within the console (#/type/id). */
export function link(type, id, text) {
	return h('a', { href: `#/${type}/${encodeURIComponent(id)}` }, text || id);
}

/* A status badge: available/attached/UP green, pending/DOWN… */
export function badge(state) {
	const s = String(state || '').toLowerCase();
	const kind = ['available', 'attached', 'up', 'running', 'active', 'associated', 'succeeded', 'in-use'].includes(s)
		? 'ok' : ['pending', 'attaching', 'detaching', 'deleting', 'stopping', 'shutting-down'].includes(s)
			? 'wait' : ['down', 'failed', 'blackhole', 'terminated', 'deleted', 'detached'].includes(s) ? 'bad' : 'neutral';
	return h('span', { class: `badge ${kind}` }, state || '-');
}

export function dl(pairs) {
	return h('dl', { class: 'props' }, pairs.filter((p) => p).map(([k, v]) =>
		[h('dt', {}, k), h('dd', {}, v === undefined || v === null || v === '' ? '-' : v)]));
}

/*
 * types_cli.mjs — prints, as JSON, what the console asks the API for each
 * resource type (src/console/www/js/resources.mjs TYPES: the Describe
 * action, its id parameter, paging and the filters the list offers), for
 * tests/console/test_types.py to check every one against vpcd.
 */
import { TYPES } from '../../src/console/www/js/resources.mjs';

const out = {};
for (const [k, t] of Object.entries(TYPES))
	out[k] = { describe: t.describe, set: t.set, id: t.id, idParam: t.idParam, paged: !!t.paged, maxPage: t.maxPage || 1000,
		filters: t.filters.map(([name]) => name), remove: t.remove ? t.remove.action : null };
process.stdout.write(JSON.stringify(out));

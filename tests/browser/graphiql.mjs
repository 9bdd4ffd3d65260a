// Drives the GraphiQL page that `portal serve` ships (graphiql 4.1.2, CodeMirror 5 editors)
// in headless Chromium, as a person would: the docs explorer opens and lists `therapists`,
// and a query typed into the editor gets autocompletion. `--dump-dom` cannot type, hence this.
//
// Usage: node tests/browser/graphiql.mjs BASE_URL
// Env:   PORTAL_BROWSER_NODE   npm prefix holding playwright-core (check_docs.sh installs it)
//        CHROMIUM              the browser (default: /usr/bin/chromium)
//        GRAPHIQL_SCREENSHOTS  a folder for a screenshot of the page when a check fails
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const base = (process.argv[2] || '').replace(/\/+$/, '');
if (!base) {
  console.error('graphiql: usage: node graphiql.mjs BASE_URL');
  process.exit(2);
}
const prefix = process.env.PORTAL_BROWSER_NODE;
const require = createRequire(prefix ? join(prefix, 'package.json') : import.meta.url);
const { chromium } = require('playwright-core');

const STEP_TIMEOUT = 20_000;
const screenshots = process.env.GRAPHIQL_SCREENSHOTS;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
  ],
});

let failed = false;
async function check(name, url, body) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    const where = m.location()?.url || '';
    if (m.type() === 'error' && !where.endsWith('/favicon.ico')) problems.push(`console error: ${m.text()} ${where}`);
  });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  try {
    const detail = await body(page, url);
    console.log(`graphiql: ok: ${name}${detail ? ` (${detail})` : ''}`);
  } catch (e) {
    failed = true;
    console.error(`graphiql: FAILED: ${name} at ${url}: ${e.message.split('\n')[0]}`);
    for (const p of problems) console.error(`graphiql:   ${p}`);
    if (screenshots) {
      mkdirSync(screenshots, { recursive: true });
      const file = join(screenshots, `graphiql-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => {});
      console.error(`graphiql:   screenshot: ${file}`);
    }
  } finally {
    await context.close();
  }
}

// Playwright counts a transparent or off-screen element as visible; a person does not.
// GraphiQL hides a pane by moving it to left:-1000px with opacity 0, so check for that.
async function assertOnScreen(locator, what) {
  const where = await locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const inView = r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0 &&
      r.left < window.innerWidth && r.top < window.innerHeight;
    let hidden = null;
    for (let n = el; n && n !== document.documentElement; n = n.parentElement) {
      const s = getComputedStyle(n);
      if (s.opacity === '0' || s.visibility === 'hidden' || s.display === 'none') {
        hidden = `${n.tagName.toLowerCase()}.${[...n.classList].join('.')} has opacity ${s.opacity}, visibility ${s.visibility}, display ${s.display}`;
        break;
      }
    }
    return { inView, hidden, box: `${Math.round(r.x)},${Math.round(r.y)} ${Math.round(r.width)}x${Math.round(r.height)}` };
  });
  if (!where.inView || where.hidden) {
    throw new Error(`${what} is in the DOM but not shown on screen (box ${where.box} in a ` +
      `${await locator.page().evaluate(() => `${innerWidth}x${innerHeight}`)} window${where.hidden ? `; ${where.hidden}` : ''})`);
  }
}

// Waits for GraphiQL's introspection query to be answered, so the schema is there.
function introspection(page) {
  const answered = page.waitForResponse(
    (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/graphql' &&
      (r.request().postData() || '').includes('__schema'),
  );
  answered.catch(() => {}); // a step that fails before awaiting it must not crash the run
  return answered;
}

await check('the docs explorer lists the field therapists', `${base}/graphql?explorer=docs`, async (page, url) => {
  const schema = introspection(page);
  await page.goto(url);
  const response = await schema;
  if (!response.ok()) throw new Error(`introspection answered HTTP ${response.status()}`);
  const explorer = page.locator('.graphiql-doc-explorer');
  await explorer.waitFor();
  await assertOnScreen(explorer, 'the docs explorer');
  // The explorer opens on the schema's root page: "query: <Query type>" links to the type.
  const queryType = explorer.locator('div:has(> .graphiql-doc-explorer-root-type:text-is("query")) > a.graphiql-doc-explorer-type-name');
  const typeName = (await queryType.textContent()).trim();
  await queryType.click();
  await explorer.locator('.graphiql-doc-explorer-title').filter({ hasText: new RegExp(`^${typeName}$`) }).waitFor();
  const listed = explorer.locator('a.graphiql-doc-explorer-field-name');
  const field = listed.filter({ hasText: /^therapists$/ });
  try {
    await field.first().waitFor();
  } catch {
    const fields = await listed.allTextContents();
    throw new Error(`the docs explorer's ${typeName} type lists no field therapists (it lists [${fields.join(', ')}])`);
  }
  await assertOnScreen(field.first(), 'the field therapists in the docs explorer');
  const fields = await listed.allTextContents();
  return `root type ${typeName}, fields: ${fields.join(', ')}`;
});

await check('the query editor autocompletes therapists', `${base}/graphql`, async (page, url) => {
  const schema = introspection(page);
  await page.goto(url);
  await schema;
  const editor = page.locator('.graphiql-query-editor .CodeMirror');
  await editor.waitFor();
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  const word = 'therap';
  await page.keyboard.type(`{ ${word}`, { delay: 60 });
  const hints = page.locator('.CodeMirror-hints .CodeMirror-hint');
  let opened = 'by typing';
  try {
    await hints.first().waitFor({ timeout: 5_000 });
  } catch {
    await page.keyboard.press('Control+Space'); // as a person would when no popup came
    await hints.first().waitFor();
    opened = 'by Ctrl+Space';
  }
  await assertOnScreen(page.locator('.CodeMirror-hints'), 'the completion popup');
  const offered = (await hints.allTextContents()).map((t) => t.trim());
  // Completion, not a list of every field: each entry must continue what was typed.
  const unrelated = offered.filter((o) => !o.startsWith(word));
  if (unrelated.length) {
    throw new Error(`the completion popup (opened ${opened}) offers [${offered.join(', ')}]: ` +
      `${unrelated.join(', ')} do not complete '${word}'`);
  }
  for (const want of ['therapists', 'therapist']) {
    if (!offered.includes(want)) {
      throw new Error(`the completion popup (opened ${opened}) offers [${offered.join(', ')}], not ${want}`);
    }
  }
  const typed = await page.evaluate(() => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue());
  return `typed ${JSON.stringify(typed)}, popup opened ${opened}, offered: ${offered.join(', ')}`;
});

await browser.close();
if (failed) process.exit(1);

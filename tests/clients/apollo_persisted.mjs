// Apollo Client's automatic persisted queries against a real `portal serve`: the link
// sends only the SHA-256 of a document; the portal answers PersistedQueryNotFound the
// first time, the link resends with the text, and afterwards the hash alone runs it,
// from a fresh client too.
//
// Usage: node tests/clients/apollo_persisted.mjs BASE_URL TOKEN
// Env:   PORTAL_CLIENTS_NODE   npm prefix holding @apollo/client and graphql
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

const [base, token] = process.argv.slice(2);
if (!base || !token) {
  console.error('apollo_persisted: usage: node apollo_persisted.mjs BASE_URL TOKEN');
  process.exit(2);
}
const prefix = process.env.PORTAL_CLIENTS_NODE;
const require = createRequire(prefix ? join(prefix, 'package.json') : import.meta.url);
const { ApolloClient, InMemoryCache, HttpLink, gql } = require('@apollo/client/core');
const { createPersistedQueryLink } = require('@apollo/client/link/persisted-queries');

const PAGE = gql`
  query FirstPage($first: Int) {
    therapists(first: $first) {
      nodes { uuid displayName specialties }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

let failed = false;
function check(ok, what, detail) {
  console.log(`apollo_persisted: ${ok ? 'ok' : 'FAILED'}: ${what}${ok ? '' : ` (${detail})`}`);
  if (!ok) failed = true;
}

/** A client whose every request body is recorded in `sent`. */
function client(sent) {
  const fetchAndRecord = (uri, options) => {
    sent.push(JSON.parse(options.body));
    return fetch(uri, options);
  };
  const http = new HttpLink({
    uri: `${base}/graphql`,
    fetch: fetchAndRecord,
    headers: { authorization: `Bearer ${token}` },
  });
  const sha256 = (text) => createHash('sha256').update(text).digest('hex');
  return new ApolloClient({
    link: createPersistedQueryLink({ sha256 }).concat(http),
    cache: new InMemoryCache(),
  });
}

const first = [];
const answer = await client(first).query({ query: PAGE, variables: { first: 3 } });
const nodes = answer.data?.therapists?.nodes ?? [];
check(nodes.length === 3, 'the first page arrives through the persisted-query link', JSON.stringify(answer));
check(
  first.length === 2 && first[0].query === undefined && typeof first[1].query === 'string',
  'the first request sends the hash alone, the retry after PersistedQueryNotFound the text',
  JSON.stringify(first),
);
const hash = first[0]?.extensions?.persistedQuery?.sha256Hash;
check(/^[0-9a-f]{64}$/.test(hash ?? ''), 'the link sends a SHA-256 hash', JSON.stringify(first[0]));

const later = [];
const again = await client(later).query({ query: PAGE, variables: { first: 2 } });
check(
  later.length === 1 && later[0].query === undefined,
  'a fresh client runs the document by its hash alone, in one request',
  JSON.stringify(later),
);
check(
  again.data?.therapists?.nodes?.length === 2 && again.data.therapists.nodes[0].uuid === nodes[0].uuid,
  'the hash runs the same document with its own variables',
  JSON.stringify(again),
);
process.exit(failed ? 1 : 0);

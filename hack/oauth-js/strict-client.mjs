// A strict OAuth 2.1 / OpenID Connect client for cruise's tests: panva's
// oauth4webapi runs discovery, the code flow with PKCE (checking the iss
// response parameter and the ID token) and a refresh against cruise.
//
// usage: node strict-client.mjs ISSUER CLIENT_ID REDIRECT_URI
// protocol on stdio: prints {"authorization_url": ...}; reads the full
// redirect URL (with code) as one line; prints the JSON result.
import * as oauth from 'oauth4webapi';
import * as readline from 'node:readline';

const [issuerArg, clientId, redirectURI] = process.argv.slice(2);
const issuer = new URL(issuerArg);
const insecure = { [oauth.allowInsecureRequests]: true }; // loopback test server

const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }));
const client = { client_id: clientId, id_token_signed_response_alg: as.id_token_signing_alg_values_supported[0] };
const clientAuth = oauth.None();

const codeVerifier = oauth.generateRandomCodeVerifier();
const codeChallenge = await oauth.calculatePKCECodeChallenge(codeVerifier);
const state = oauth.generateRandomState();
const nonce = oauth.generateRandomNonce();
const url = new URL(as.authorization_endpoint);
url.search = new URLSearchParams({
  client_id: clientId, redirect_uri: redirectURI, response_type: 'code', scope: 'openid profile groups',
  code_challenge: codeChallenge, code_challenge_method: 'S256', state, nonce,
}).toString();
console.log(JSON.stringify({ authorization_url: url.href }));

const rl = readline.createInterface({ input: process.stdin });
const callback = await new Promise((resolve) => rl.once('line', resolve));
rl.close();

const params = oauth.validateAuthResponse(as, client, new URL(callback), state);
const codeResponse = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectURI, codeVerifier, insecure);
const tokens = await oauth.processAuthorizationCodeResponse(as, client, codeResponse, { expectedNonce: nonce, requireIdToken: true });
const claims = oauth.getValidatedIdTokenClaims(tokens);

const refreshResponse = await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, insecure);
const refreshed = await oauth.processRefreshTokenResponse(as, client, refreshResponse);

console.log(JSON.stringify({
  sub: claims.sub,
  groups: claims.groups,
  rotated: refreshed.refresh_token !== undefined && refreshed.refresh_token !== tokens.refresh_token,
  access_token_changed: refreshed.access_token !== tokens.access_token,
}));

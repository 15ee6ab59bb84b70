/** Samples of the rights routes of the admin API (issue 11), shared by the route walks (deny-all, rights). */
/** A sample of every rights route of the admin API (issue 11), with this Authorization. */
export function adminRights(authorization: string): Record<string, Array<{ url: string; payload?: string; headers?: Record<string, string> }>> {
  const h = { authorization };
  const j = (url: string, body: unknown) => ({ url, payload: JSON.stringify(body), headers: { ...h, 'content-type': 'application/json' } });
  return {
    'GET /admin/users': [{ url: '/admin/users', headers: h }],
    'POST /admin/users': [j('/admin/users', { login: 'intruder', password: 'intruder-password', admin: true })],
    'GET /admin/users/:login': [{ url: '/admin/users/admin', headers: h }],
    'PATCH /admin/users/:login': [j('/admin/users/admin', { disabled: true })],
    'DELETE /admin/users/:login': [{ url: '/admin/users/admin', headers: h }],
    'GET /admin/users/:login/tokens': [{ url: '/admin/users/admin/tokens', headers: h }],
    'POST /admin/users/:login/tokens': [j('/admin/users/admin/tokens', { scopes: ['admin'] })],
    'DELETE /admin/tokens/:id': [{ url: '/admin/tokens/1', headers: h }],
    'GET /admin/groups': [{ url: '/admin/groups', headers: h }],
    'POST /admin/groups': [j('/admin/groups', { name: 'intruders' })],
    'GET /admin/groups/:group': [{ url: '/admin/groups/g', headers: h }],
    'DELETE /admin/groups/:group': [{ url: '/admin/groups/g', headers: h }],
    'PUT /admin/groups/:group/members/:login': [{ url: '/admin/groups/g/members/admin', headers: h }],
    'DELETE /admin/groups/:group/members/:login': [{ url: '/admin/groups/g/members/admin', headers: h }],
    'GET /admin/grants': [{ url: '/admin/grants', headers: h }],
    'POST /admin/grants': [j('/admin/grants', { user: 'admin', resourceKind: 'layer', resourceName: 'communes', action: 'admin' })],
    'DELETE /admin/grants/:id': [{ url: '/admin/grants/1', headers: h }],
    'GET /admin/access/layers/:name': [{ url: '/admin/access/layers/communes', headers: h }],
    'PUT /admin/access/layers/:name': [j('/admin/access/layers/communes', { public: true })],
    'GET /admin/access/rasters/:name': [{ url: '/admin/access/rasters/communes_densite', headers: h }],
    'PUT /admin/access/rasters/:name': [j('/admin/access/rasters/communes_densite', { public: true })],
    'GET /admin/access/records/:identifier': [{ url: '/admin/access/records/some-record', headers: h }],
    'PUT /admin/access/records/:identifier': [j('/admin/access/records/some-record', { public: true })],
    'GET /admin/usage': [{ url: '/admin/usage?format=csv', headers: h }],
    'GET /admin/audit': [{ url: '/admin/audit?format=csv', headers: h }, { url: '/admin/audit?event=sign-in', headers: h }],
  };
}

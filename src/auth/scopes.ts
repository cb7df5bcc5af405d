// scopes.ts names the access-policy scopes of GEM's enterprise auth. Every
// route that needs a tenant declares the scope it needs when it is registered
// (src/api/api.ts); in trust mode (-auth.type=trust) the scope is not checked.

/** SCOPES lists every scope an access policy can grant. */
export const SCOPES = [
  'metrics:read',
  'metrics:write',
  'metrics:delete',
  'rules:read',
  'rules:write',
  'alerts:read',
  'alerts:write',
  'admin',
] as const;

/** Scope is one access-policy scope. */
export type Scope = (typeof SCOPES)[number];

/**
 * Dependency rules checked by `npx depcruise src services app` and by test/unit/dependencies.test.ts:
 * no import cycles (type-only imports included: a cycle of types is still two modules that cannot be
 * understood, moved or tested one without the other), and the shared core (src/) never reaches up into the
 * services or the composition root (app/).
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Dependencies point one way (project rule "No import cycles").',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-circular-folders',
      severity: 'error',
      comment: 'No cycle between folders either (src/catalog ↔ src/metadata through different files is still a cycle).',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-not-to-services',
      severity: 'error',
      comment: 'src/ is the shared core: services and the composition root build on it, never the reverse.',
      from: { path: '^src/' },
      to: { path: '^(services|app)/' },
    },
    {
      name: 'records-api-not-to-csw',
      severity: 'error',
      comment: 'OGC API – Records and CSW are two faces of the catalogue (src/records): neither builds on the other.',
      from: { path: '^services/catalogue/ogcapi-records/' },
      to: { path: '^services/catalogue/csw/' },
    },
    {
      name: 'services-not-to-app',
      severity: 'error',
      comment: 'A service exports its routes and background work; only the composition root (app/) assembles them.',
      from: { path: '^services/' },
      to: { path: '^app/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};

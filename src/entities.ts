/**
 * Every TypeORM entity of the application: the one list the app, the CLI and ormconfig.ts share,
 * so `migration:generate` sees exactly what the app maps.
 */
export const ENTITIES: Function[] = [];

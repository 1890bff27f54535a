import { DataSource } from 'typeorm';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * Entities and migrations cannot drift: the app starts on a database built by the migrations alone,
 * and TypeORM's schema builder, comparing it with every entity, finds nothing to change. An entity
 * that gains a column, index or check without a migration (or the reverse) fails here, naming the
 * statement TypeORM would run.
 */
describe('schema drift', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it('has nothing to change after the migrations ran', async () => {
    const dataSource = t.app.get(DataSource);
    const sql = await dataSource.driver.createSchemaBuilder().log();
    expect(sql.upQueries.map((q) => q.query)).toEqual([]);
  });
});

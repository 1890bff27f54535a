import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { QueryFailedError } from 'typeorm';
import { assemblyFailure, databaseFailure } from '../../../../src/common/startup/startup-error';

class Missing {}

@Injectable()
class NeedsMissing {
  constructor(readonly missing: Missing) {}
}

@Module({ providers: [NeedsMissing] })
class BrokenModule {}

describe('start-up failures without a mapping where they arose', () => {
  it("tells Nest's unresolvable provider as one sentence naming the build, not the settings", async () => {
    const err = await NestFactory.createApplicationContext(BrokenModule, { logger: false, abortOnError: false }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const mapped = assemblyFailure(err);
    expect(mapped?.setting).toBe('this build');
    expect(mapped?.what).toMatch(
      /^the application could not be assembled: Nest can't resolve dependencies of the NeedsMissing/,
    );
    expect(mapped?.what).not.toContain('\n');
    expect(assemblyFailure(new Error('Unknown thing'))).toBeUndefined();
  });

  it('tells a statement the database refused with its SQLSTATE, DATABASE_URL and what to do', () => {
    const driverError = Object.assign(new Error('permission denied for schema public'), {
      code: '42501',
      severity: 'ERROR',
    });
    const mapped = databaseFailure(new QueryFailedError('CREATE TABLE t ()', [], driverError));
    expect(mapped?.setting).toBe('DATABASE_URL');
    expect(mapped?.message).toBe(
      'the database refused a start-up statement: its user lacks a privilege (permission denied for schema public, SQLSTATE 42501) (DATABASE_URL): connect as the owner of the database, or grant its user CREATE on the database and on schema public',
    );
    const other = databaseFailure(
      Object.assign(new Error('relation "x" does not exist'), { code: '42P01', severity: 'ERROR' }),
    );
    expect(other?.what).toBe('the database refused a start-up statement: relation "x" does not exist (SQLSTATE 42P01)');
    // A file-system error is not a database one, though EPERM looks like a SQLSTATE.
    expect(databaseFailure(Object.assign(new Error('operation not permitted'), { code: 'EPERM' }))).toBeUndefined();
  });
});

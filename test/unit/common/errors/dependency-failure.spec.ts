import { QueryFailedError } from 'typeorm';
import {
  DependencyUnavailableError,
  dependencyFailureOf,
  isUnavailableSqlState,
} from '../../../../src/common/errors/dependency-failure';

const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });

describe('dependencyFailureOf', () => {
  it.each([
    ['08006', 'connection failure'],
    ['08001', 'cannot establish'],
    ['57P01', 'terminating connection due to administrator command'],
    ['57P02', 'crash shutdown'],
    ['57P03', 'the database system is starting up'],
    ['53100', 'could not extend file: No space left on device'],
    ['53300', 'sorry, too many clients already'],
    ['58030', 'could not write to file'],
  ])('calls SQLSTATE %s an unavailable database', (code, message) => {
    expect(dependencyFailureOf(withCode(message, code))).toBe('database');
  });

  it('looks inside TypeORM query errors', () => {
    const driverError = withCode('terminating connection due to administrator command', '57P01');
    expect(dependencyFailureOf(new QueryFailedError('SELECT 1', [], driverError))).toBe('database');
  });

  it('treats refused or cut connections as an unavailable database', () => {
    expect(dependencyFailureOf(withCode('connect ECONNREFUSED 127.0.0.1:5999', 'ECONNREFUSED'))).toBe('database');
    expect(dependencyFailureOf(new Error('Connection terminated unexpectedly'))).toBe('database');
    expect(dependencyFailureOf(new Error('timeout exceeded when trying to connect'))).toBe('database');
    expect(
      dependencyFailureOf(new AggregateError([withCode('connect ECONNREFUSED ::1:5999', 'ECONNREFUSED')], '')),
    ).toBe('database');
    expect(dependencyFailureOf(withCode('connect ENOENT /data/run/.s.PGSQL.5432', 'ENOENT'))).toBe('database');
  });

  it('recognises Redis outages', () => {
    expect(dependencyFailureOf(new Error('Connection is closed.'))).toBe('redis');
    const maxRetries = new Error('Reached the max retries per request limit (which is 2).');
    maxRetries.name = 'MaxRetriesPerRequestError';
    expect(dependencyFailureOf(maxRetries)).toBe('redis');
    expect(dependencyFailureOf(new DependencyUnavailableError('redis', 'down'))).toBe('redis');
  });

  it('leaves defects and request errors alone', () => {
    expect(dependencyFailureOf(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBeUndefined();
    expect(dependencyFailureOf(withCode('duplicate key value violates unique constraint', '23505'))).toBeUndefined();
    expect(dependencyFailureOf(withCode('syntax error at or near "SELEC"', '42601'))).toBeUndefined();
    expect(dependencyFailureOf(withCode('canceling statement due to statement timeout', '57014'))).toBeUndefined();
    expect(dependencyFailureOf(withCode('no such file', 'ENOENT'))).toBeUndefined();
    expect(dependencyFailureOf('a string')).toBeUndefined();
    expect(dependencyFailureOf(undefined)).toBeUndefined();
  });

  it('classifies SQLSTATE classes, not single codes', () => {
    expect(isUnavailableSqlState('08P01')).toBe(true);
    expect(isUnavailableSqlState('53200')).toBe(true);
    expect(isUnavailableSqlState('57014')).toBe(false);
    expect(isUnavailableSqlState('23505')).toBe(false);
  });
});

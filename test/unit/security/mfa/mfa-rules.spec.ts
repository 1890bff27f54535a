import { type AppConfig, ConfigError, parseEnv } from '../../../../src/common/config/app-config';
import { MfaService } from '../../../../src/security/mfa/mfa.service';
import {
  challengeState,
  hashMfaToken,
  MFA_CHALLENGE_MAX_ATTEMPTS,
  newMfaToken,
  parseMfaToken,
} from '../../../../src/security/mfa/mfa-challenge';
import { mfaEnrolmentRequired, unknownRoles } from '../../../../src/security/mfa/mfa-policy';
import {
  formatRecoveryCode,
  generateRecoveryCodes,
  hashRecoveryCode,
  normalizeRecoveryCode,
  RECOVERY_CODE_ALPHABET,
} from '../../../../src/security/mfa/recovery-codes';
import { ROLES } from '../../../../src/security/rbac/roles';

describe('recovery codes', () => {
  it('issues ten distinct codes of twelve unambiguous symbols, grouped by four', () => {
    const codes = generateRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/);
    expect(RECOVERY_CODE_ALPHABET).toHaveLength(32);
    expect(RECOVERY_CODE_ALPHABET).not.toMatch(/[01IO]/);
  });

  it('uses every symbol of the alphabet without bias (5 bits per byte)', () => {
    let counter = 0;
    const sequential = (size: number): Buffer => Buffer.from(Array.from({ length: size }, () => counter++ % 256));
    const codes = generateRecoveryCodes(8, sequential);
    const symbols = codes.join('').replace(/-/g, '');
    expect(new Set(symbols).size).toBe(32);
  });

  it('draws again when two codes collide', () => {
    let call = 0;
    const repeating = (size: number): Buffer => Buffer.alloc(size, call++ < 2 ? 7 : call);
    expect(new Set(generateRecoveryCodes(3, repeating)).size).toBe(3);
  });

  it('normalises case, spaces and hyphens; refuses anything else', () => {
    expect(normalizeRecoveryCode('7kq2-m9xd-4hrt')).toBe('7KQ2M9XD4HRT');
    expect(normalizeRecoveryCode(' 7KQ2 M9XD 4HRT ')).toBe('7KQ2M9XD4HRT');
    for (const bad of ['', '7KQ2-M9XD', '7KQ2-M9XD-4HRT-AAAA', '0KQ2-M9XD-4HRT', 'IKQ2-M9XD-4HRT', '123456']) {
      expect(normalizeRecoveryCode(bad)).toBeNull();
    }
    expect(formatRecoveryCode('7KQ2M9XD4HRT')).toBe('7KQ2-M9XD-4HRT');
  });

  it('hashes with the user id, so one hash cannot be tried against every account', () => {
    const a = hashRecoveryCode('user-a', '7KQ2M9XD4HRT');
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRecoveryCode('user-a', '7KQ2M9XD4HRT')).toBe(a);
    expect(hashRecoveryCode('user-b', '7KQ2M9XD4HRT')).not.toBe(a);
  });
});

describe('MFA login challenges', () => {
  const now = new Date('2026-11-28T12:00:00Z');
  const live = { usedAt: null, expiresAt: new Date(now.getTime() + 1000), attempts: 0 };

  it('issues 256-bit opaque tokens and stores only their SHA-256', () => {
    const { token, hash } = newMfaToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hash).toBe(hashMfaToken(token));
    expect(parseMfaToken(token)).toBe(hash);
    expect(newMfaToken().token).not.toBe(token);
    expect(parseMfaToken('short')).toBeNull();
    expect(parseMfaToken(`${token}=`)).toBeNull();
  });

  it('is live until used, expired or out of attempts', () => {
    expect(challengeState(live, now)).toBe('live');
    expect(challengeState({ ...live, attempts: MFA_CHALLENGE_MAX_ATTEMPTS - 1 }, now)).toBe('live');
    expect(challengeState({ ...live, attempts: MFA_CHALLENGE_MAX_ATTEMPTS }, now)).toBe('exhausted');
    expect(challengeState({ ...live, expiresAt: now }, now)).toBe('expired');
    expect(challengeState({ ...live, usedAt: now }, now)).toBe('used');
  });
});

describe('MFA_REQUIRED_ROLES', () => {
  it('requires enrolment only for a listed role without active MFA', () => {
    expect(mfaEnrolmentRequired(['trader', 'auditor'], ['auditor'], false)).toBe(true);
    expect(mfaEnrolmentRequired(['trader', 'auditor'], ['auditor'], true)).toBe(false);
    expect(mfaEnrolmentRequired(['trader'], ['auditor', 'admin'], false)).toBe(false);
    expect(mfaEnrolmentRequired(['admin'], [], false)).toBe(false);
  });

  it('names unknown roles, so a typo stops the start instead of switching MFA off', () => {
    expect(unknownRoles(['admin', 'auditors', 'root'], ROLES)).toEqual(['auditors', 'root']);
    expect(unknownRoles([...ROLES], ROLES)).toEqual([]);
  });
});

describe('the MFA_REQUIRED_ROLES setting', () => {
  it('reads a comma-separated list of role names, empty by default', () => {
    expect(parseEnv({}).MFA_REQUIRED_ROLES).toEqual([]);
    expect(parseEnv({ MFA_REQUIRED_ROLES: 'admin, super_admin,auditor' }).MFA_REQUIRED_ROLES).toEqual([
      'admin',
      'super_admin',
      'auditor',
    ]);
    expect(() => parseEnv({ MFA_REQUIRED_ROLES: 'Admin;root' })).toThrow(
      /MFA_REQUIRED_ROLES must be a comma-separated list/,
    );
  });

  it('stops the start when it names a role that does not exist', () => {
    const service = (requiredRoles: string[]): MfaService =>
      new MfaService(
        null as never,
        { mfa: { requiredRoles } } as AppConfig,
        null as never,
        null as never,
        null as never,
        null as never,
        null as never,
        null as never,
        null as never,
      );
    expect(() => service(['admin', 'auditors']).onModuleInit()).toThrow(ConfigError);
    expect(() => service(['admin', 'auditors']).onModuleInit()).toThrow(
      /MFA_REQUIRED_ROLES names unknown role\(s\) "auditors"/,
    );
    expect(() => service(['admin', 'auditor']).onModuleInit()).not.toThrow();
  });
});

import { HTTP_FORBIDDEN_EVENT } from '../../common/errors/problem-details.filter';

/**
 * In-process events the threat detector listens to, and the one it emits for the live gateway.
 * Emitters never wait for the detector: detection must not slow down or fail a request.
 */
export const ThreatSignals = {
  loginFailed: 'auth.login_failed',
  loginSucceeded: 'auth.login_succeeded',
  mfaFailed: 'auth.mfa_failed',
  refreshTokenReused: 'session.refresh_token_reused',
  forbidden: HTTP_FORBIDDEN_EVENT,
} as const;

/** Emitted for every security event recorded: `{...SecurityEventDto}`. */
export const SECURITY_EVENT_RECORDED = 'security.event';

export interface LoginFailedSignal {
  email: string;
  userId?: string;
  ip?: string;
  userAgent?: string;
  reason: string;
}

export interface LoginSucceededSignal {
  userId: string;
  /** The session the sign-in opened: its own activity row is not an "earlier" sign-in. */
  sessionId: string;
  ip?: string;
  userAgent?: string;
}

export interface SessionSignal {
  userId: string;
  sessionId: string;
  ip?: string;
}

export interface ForbiddenSignal {
  ip?: string;
  userId?: string;
  method: string;
  path: string;
}

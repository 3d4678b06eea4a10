// Types of caiquan-sdk (caiquan.js, and its ES module dist/caiquan.mjs, whose
// default export is the same class).

export = Caiquan;
export as namespace Caiquan;

declare class Caiquan {
  constructor(options: Caiquan.Options);

  /** connecting (also while waiting to retry, or in the background), ready, queued, playing, closed. */
  readonly state: Caiquan.State;
  readonly user: Caiquan.User;
  /** The player's standing, from hi and then from each result. */
  readonly totalScore: number;
  readonly winStreak: number;
  /** Players online when the server last said hi. */
  readonly nearby: number;
  /** The round being played, or null. */
  readonly round: Caiquan.Round | null;

  /** Opens the connection and keeps it open (reconnecting, resuming) until close(). Resolves with the first hi; rejects (code closed, replaced, auth_failed's code, upgrade_required, content_refused, banned, deleted) when the SDK stops before one. */
  connect(): Promise<Caiquan.Events['hi']>;
  /** Closes for good: no reconnect until connect() is called again. */
  close(): this;
  /** Asks for a seat in the next round (sent once ready). Resolves with the round's start (at once while playing); rejects with the server's code (draining, already_queued, server_busy), or left, closed. */
  join(): Promise<Caiquan.Round>;
  /** 1 scissors, 2 rock, 3 paper; the last choice before the deadline counts. Resolves with that round's result; rejects with code void (reason on the error) when the round ends without one, or not_playing outside a round. */
  choose(choice: 1 | 2 | 3): Promise<Caiquan.Result>;
  /** An emoji reaction 1..4 relayed to the other players; only while playing. */
  face(face: 1 | 2 | 3 | 4): boolean;
  /** Leaves the queue, or the round (which then counts as not choosing). */
  leave(): boolean;

  on<K extends keyof Caiquan.Events>(event: K, handler: (data: Caiquan.Events[K]) => void): this;
  off<K extends keyof Caiquan.Events>(event: K, handler?: (data: Caiquan.Events[K]) => void): this;
  /** The next event only: with a handler, calls it once; without, resolves with the event. */
  once<K extends keyof Caiquan.Events>(event: K, handler: (data: Caiquan.Events[K]) => void): this;
  once<K extends keyof Caiquan.Events>(event: K): Promise<Caiquan.Events[K]>;

  static readonly SCISSORS: 1;
  static readonly ROCK: 2;
  static readonly PAPER: 3;
  static readonly version: string;
  /** The client protocol version this SDK names in hello. */
  static readonly PROTOCOL: number;
  /** Sentences for people, keyed by error code (server codes, login codes, and the SDK's own), in zh-CN and en. */
  static readonly messages: { 'zh-CN': Record<string, string>; en: Record<string, string> };
  /** The sentence for code in lang (zh-CN or en; zh-* is zh-CN, others en); an unknown code gets a general one. */
  static message(code: string, lang?: string): string;
  /** wx.login, then POST /login: the session kept in wx storage until it expires by this device's clock (unless fresh), else a new one. Rejects with an Error whose `code` is the server's (invalid_code, wechat_busy, …), login_failed (wx.login failed) or network. */
  static loginWithWeChat(options: Caiquan.WeChatOptions): Promise<Caiquan.Session>;
  /** POST /guest: the kept guest renewed (same uid, same scores) or a new one; null when the server does not run guest mode. Rejects with an Error whose `code` is the server's. */
  static loginAsGuest(options: Caiquan.GuestOptions): Promise<Caiquan.Session | null>;
}

declare namespace Caiquan {
  type State = 'connecting' | 'ready' | 'queued' | 'playing' | 'closed';

  interface User {
    /** Stable per player: the server keeps totals and streak per uid. */
    uid: string;
    uname?: string;
    uavatar?: string;
  }

  interface Options {
    /** ws:// or wss:// URL of the server's /ws; ?format=json is added. */
    url: string;
    /** Required unless a token function resolves with a session (its uid is then the player's). */
    user: User;
    /**
     * The session token from POST /login (WeChat mode) or POST /guest (guest mode); user.uid must then be the login's uid.
     * A function is asked on each connection and may return a promise, and a session ({uid, token}) instead of a string.
     * When the server refuses a token (token_expired, bad_token, token_required) it is asked once more with renew: true;
     * if that one is refused too, the SDK stops and emits auth_failed.
     */
    token?: string | ((info: { renew: boolean; code: string }) => TokenAnswer | Promise<TokenAnswer>);
    /** Reconnect after a lost connection (default true). Never after close() or close code 4001. */
    reconnect?: boolean;
    /** First retry waits between minDelay/2 and minDelay ms (default 500); each further one doubles, up to maxDelay (default 15000). */
    minDelay?: number;
    maxDelay?: number;
    /** How long a connection attempt may take from dialling to hi (default 10000 ms). */
    connectTimeout?: number;
    /** The mini-program's wx object (default: the global wx, if it has connectSocket). */
    wx?: any;
    /** A WebSocket class, where there is no wx (default: the global WebSocket). */
    WebSocket?: any;
  }

  type TokenAnswer = string | { uid?: string; token: string } | null | undefined;

  interface WeChatOptions {
    /** http:// or https:// base URL of the server, e.g. https://game.example.com. */
    server: string;
    /** Name and avatar URL to log in with (the hello's win over them). */
    uname?: string;
    uavatar?: string;
    /** Log in anew even if a kept session is still valid (do this when the server refused its token). */
    fresh?: boolean;
    /** Storage key of the kept session (default 'caiquan.wechat'). */
    key?: string;
    storage?: { get(key: string): any; set(key: string, value: any): void; remove(key: string): void };
    /** POSTs body as JSON to url (default: wx.request). */
    request?: (url: string, token: string, body?: object) => Promise<{ status: number; data: any }>;
    /** The mini-program's wx object (default: the global wx, if it has login). */
    wx?: any;
  }

  interface GuestOptions {
    /** http:// or https:// base URL of the server, e.g. https://game.example.com. */
    server: string;
    /** Storage key of the kept guest (default 'caiquan.guest'). */
    key?: string;
    /** Where the guest is kept (default: wx storage in a mini-program, localStorage in a browser). */
    storage?: { get(key: string): any; set(key: string, value: any): void; remove(key: string): void };
    /** POSTs to url with the token as a bearer, if any (default: wx.request or fetch). */
    request?: (url: string, token: string) => Promise<{ status: number; data: any }>;
    /** The mini-program's wx object (default: the global wx, if it has request). */
    wx?: any;
  }

  interface Session {
    uid: string;
    token: string;
    /** RFC 3339. A guest renews with loginAsGuest before or up to guest_refresh_window (30 days by default) after it. */
    expiresAt: string;
  }

  interface RoomUser {
    uid: string;
    uname: string;
    uavatar: string;
    totalScore: number;
    winStreak: number;
  }

  interface Round {
    roundId: string;
    /** Seconds from start to settlement, rounded up. */
    gameTime: number;
    /** Milliseconds from start to settlement, exact (gameTimeMs of start). */
    gameTimeMs: number;
    /** Date.now() at which the round settles (by this client's clock): its start plus gameTimeMs. */
    deadline: number;
    roomUsers: RoomUser[];
    /** roomUsers without this player. */
    opponents: RoomUser[];
  }

  interface PlayerResult {
    uid: string;
    roundScore: number;
    totalScore: number;
    winStreak: number;
    /** 0 when the player never chose. */
    choice: 0 | 1 | 2 | 3;
  }

  interface Result {
    roundId: string;
    /** win: this player scored; loss: another did; tie: nobody did. */
    outcome: 'win' | 'loss' | 'tie';
    me: PlayerResult | null;
    others: PlayerResult[];
    /** The server's list as it came. */
    result: Partial<PlayerResult>[];
  }

  interface Events {
    state: { state: State; prev: State };
    /** resumed: this connection took the dropped session back (its seat and choice); what was missed follows as events. */
    hi: { message: string; nearby: number; totalScore: number; winStreak: number; resumed: boolean };
    queued: { waiting: number };
    start: Round;
    movement: { uid: string; movement: 'choice' | 'face'; face: number };
    result: Result;
    /** A player left the room. */
    leave: { uid: string };
    /** The round ended without a result for this client. local: the connection dropped mid-round (the server counts this player as not choosing). */
    void: { roundId: string; reason: string; local: boolean };
    /** code: a server error code (messages/errors.go), or 'replaced' (close 4001), or 'bad_frame'. */
    error: { code: string; message: string };
    /** The socket closed or could not open. delay: ms until the next attempt; null when none is scheduled (background, or reconnect false). resume: the next connection asks for this session back (the round goes on). */
    disconnect: { code: number; reason: string; reconnect: boolean; delay: number | null; resume: boolean };
    /** The server refused the token twice (or the token function failed): the SDK has stopped. code: the server's (token_expired, bad_token, token_required) or the login's. */
    auth_failed: { code: string; message: string };
    /** The server no longer speaks this SDK's protocol version: the SDK has stopped; the player must update the app. */
    upgrade_required: { code: string; message: string };
  }
}

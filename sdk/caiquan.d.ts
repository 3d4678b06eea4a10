// Types of the Caiquan JavaScript SDK (caiquan.js), for editors.

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

  /** Opens the connection and keeps it open (reconnecting) until close(). */
  connect(): this;
  /** Closes for good: no reconnect until connect() is called again. */
  close(): this;
  /** Asks for a seat in the next round; before ready it is sent once ready. False if not sent now. */
  join(): boolean;
  /** 1 scissors, 2 rock, 3 paper; only while playing. The last choice before the deadline counts. */
  choose(choice: 1 | 2 | 3): boolean;
  /** An emoji reaction 1..4 relayed to the other players; only while playing. */
  face(face: 1 | 2 | 3 | 4): boolean;
  /** Leaves the queue, or the round (which then counts as not choosing). */
  leave(): boolean;

  on<K extends keyof Caiquan.Events>(event: K, handler: (data: Caiquan.Events[K]) => void): this;
  off<K extends keyof Caiquan.Events>(event: K, handler?: (data: Caiquan.Events[K]) => void): this;

  static readonly SCISSORS: 1;
  static readonly ROCK: 2;
  static readonly PAPER: 3;
  static readonly version: string;
  /** POST /guest: the kept guest renewed (same uid, same scores) or a new one; null when the server does not run guest mode. Rejects with an Error whose `code` is the server's. */
  static loginAsGuest(options: Caiquan.GuestOptions): Promise<Caiquan.GuestSession | null>;
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
    user: User;
    /** The session token from POST /login (WeChat mode) or POST /guest (guest mode); user.uid must then be the login's uid. A function is called for each connection, so a renewed token is used on reconnect. */
    token?: string | (() => string);
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

  interface GuestSession {
    uid: string;
    token: string;
    /** RFC 3339; renew with loginAsGuest before or up to guest_refresh_window (30 days by default) after it. */
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
    /** Seconds from start to settlement. */
    gameTime: number;
    /** Date.now() at which the round settles (by this client's clock). */
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
    hi: { message: string; nearby: number; totalScore: number; winStreak: number };
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
    /** The socket closed or could not open. delay: ms until the next attempt; null when none is scheduled (background, or reconnect false). */
    disconnect: { code: number; reason: string; reconnect: boolean; delay: number | null };
  }
}

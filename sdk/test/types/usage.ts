// caiquan.d.ts as an app would use it: go test ./sdk/ runs tsc --noEmit
// on this file, so a type that disagrees with the README's examples fails.
import Caiquan = require('../../caiquan.js');

declare const wx: any;

async function play(): Promise<number> {
  const server = 'https://game.example.com';
  const session: Caiquan.Session = await Caiquan.loginWithWeChat({ server, uname: '小明' });
  const game = new Caiquan({
    url: 'wss://game.example.com/ws',
    user: { uid: session.uid, uname: '小明' },
    token: ({ renew }) => Caiquan.loginWithWeChat({ server, fresh: renew }),
  });
  const hi = await game.connect();
  const resumed: boolean = hi.resumed;
  const start: Caiquan.Round = await game.join();
  const ms: number = start.gameTimeMs + start.deadline;
  const result: Caiquan.Result = await game.choose(Caiquan.ROCK);
  const outcome: 'win' | 'loss' | 'tie' = result.outcome;
  game.once('result', (r) => r.others.length);
  const next: Caiquan.Result = await game.once('result');
  game.on('auth_failed', ({ code }) => wx.showToast({ title: Caiquan.message(code, 'zh-CN') }));
  game.on('upgrade_required', ({ message }) => message.length);
  game.on('disconnect', ({ resume, delay }) => (resume ? delay : 0));
  const guest: Caiquan.Session | null = await Caiquan.loginAsGuest({ server });
  const zh: string = Caiquan.messages['zh-CN'].token_expired;
  const v: number = Caiquan.PROTOCOL;
  new Caiquan({ url: 'ws://x/ws', user: { uid: 'u' }, token: 'static' });
  new Caiquan({ url: 'ws://x/ws', user: { uid: 'u' }, token: async () => ({ uid: 'u', token: 't' }) });
  return ms + v + zh.length + (resumed ? 1 : 0) + outcome.length + next.others.length + (guest ? 1 : 0);
}

export = play;

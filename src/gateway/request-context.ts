import type { Context } from 'koa';
import { commandContext, type CommandContext } from '../cqrs/command-context.js';

/** Each request's commands carry its request id as their correlation id. */
export const contextOf = (ctx: Context): CommandContext => commandContext(ctx.state.requestId as string);

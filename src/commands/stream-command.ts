import { Inject, type Type } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { CommandContext } from '../cqrs/command-context.js';
import { PORTS } from '../cqrs/command-bus.js';
import { decideAndAppend, type Decision } from '../cqrs/decide-and-append.js';
import type { Decider } from '../domain/decider.js';
import type { DomainEvent } from '../event-store/event-envelope.js';
import type { Ports } from './ports.js';

/** A command aimed at one stream, carrying what its decider decides on. */
export abstract class StreamCommand<DeciderCommand, State, Result = Decision<State>> extends Command<Result> {
  constructor(
    readonly stream: string,
    readonly decision: DeciderCommand,
    readonly context: CommandContext,
  ) {
    super();
  }
}

/** The handler of a command that needs nothing but its decider: the shared path and no more. */
export function deciderHandler<DeciderCommand, State, Event extends DomainEvent>(
  commandClass: Type<StreamCommand<DeciderCommand, State>>,
  decider: Decider<DeciderCommand, State, Event>,
): Type<ICommandHandler> {
  @CommandHandler(commandClass)
  class Handler implements ICommandHandler<StreamCommand<DeciderCommand, State>> {
    constructor(@Inject(PORTS) private readonly ports: Ports) {}
    execute(command: StreamCommand<DeciderCommand, State>): Promise<Decision<State>> {
      return decideAndAppend(this.ports.streams, command.stream, decider, command.decision, command.context);
    }
  }
  Object.defineProperty(Handler, 'name', { value: `${commandClass.name}Handler` });
  return Handler;
}

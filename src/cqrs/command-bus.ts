import 'reflect-metadata';
import { Module, type DynamicModule, type Provider, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus, CqrsModule, type ICommandHandler } from '@nestjs/cqrs';

/** The injection token under which handlers receive the application's ports. */
export const PORTS = Symbol('PORTS');

@Module({})
class CommandsModule {
  static register(ports: unknown, handlers: Array<Type<ICommandHandler>>): DynamicModule {
    const providers: Provider[] = [{ provide: PORTS, useValue: ports }, ...handlers];
    return { module: CommandsModule, imports: [CqrsModule.forRoot()], providers };
  }
}

export interface CommandBusHandle {
  commandBus: CommandBus;
  close(): Promise<void>;
}

/**
 * @nestjs/cqrs's command bus inside a bare Nest application context: no Nest HTTP
 * server (Koa serves HTTP). Handlers are registered during bootstrap, so this must
 * resolve before the gateway listens.
 */
export async function startCommandBus(ports: unknown, handlers: Array<Type<ICommandHandler>>): Promise<CommandBusHandle> {
  const app = await NestFactory.createApplicationContext(CommandsModule.register(ports, handlers), { logger: false, abortOnError: false });
  await app.init();
  return { commandBus: app.get(CommandBus), close: () => app.close() };
}

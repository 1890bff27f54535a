import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../security/audit/audit.module';
import { IdempotencyKey } from './entities/idempotency-key.entity';
import { Instrument } from './entities/instrument.entity';
import { PortfolioShare } from './entities/portfolio-share.entity';
import { Portfolio } from './entities/portfolio.entity';
import { Position } from './entities/position.entity';
import { Price } from './entities/price.entity';
import { Trade } from './entities/trade.entity';
import { IdempotencyRepository } from './idempotency/idempotency.repository';
import { IdempotencyService } from './idempotency/idempotency.service';
import { PortfoliosV2Controller } from './portfolios/portfolios-v2.controller';
import { PortfoliosController } from './portfolios/portfolios.controller';
import { PortfoliosService } from './portfolios/portfolios.service';
import { PositionSnapshotsRepository } from './positions/position-snapshots.repository';
import { PositionsRepository } from './positions/positions.repository';
import { PositionsService } from './positions/positions.service';
import { PricesController } from './prices/prices.controller';
import { PricesRepository } from './prices/prices.repository';
import { PricesService } from './prices/prices.service';
import { PortfoliosRepository } from './portfolios/portfolios.repository';
import { TradesController } from './trades/trades.controller';
import { TradesRepository } from './trades/trades.repository';
import { TradesService } from './trades/trades.service';
import { TradingEventsPublisher } from './trading-events.publisher';

/**
 * Trading data: portfolios (owned, shared with groups), instruments, trades, prices, positions
 * maintained as trades arrive, and average-cost valuation. Emits `trading.events.ts` events.
 *
 * For other modules (the live gateway, reports): `PortfoliosService.requireAccess` (the one
 * visibility rule) and `PositionsService.value`.
 */
@Module({
  imports: [
    AuditModule,
    TypeOrmModule.forFeature([Instrument, Portfolio, PortfolioShare, Trade, Price, Position, IdempotencyKey]),
  ],
  controllers: [PortfoliosController, PortfoliosV2Controller, TradesController, PricesController],
  providers: [
    PortfoliosService,
    PositionsService,
    PositionSnapshotsRepository,
    PositionsRepository,
    TradesRepository,
    TradesService,
    PricesService,
    PricesRepository,
    PortfoliosRepository,
    IdempotencyService,
    IdempotencyRepository,
    TradingEventsPublisher,
  ],
  exports: [PortfoliosService, PositionsService],
})
export class TradingModule {}

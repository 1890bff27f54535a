import { Module } from '@nestjs/common';
import { AuditModule } from '../security/audit/audit.module';
import { TradingModule } from '../trading/trading.module';
import { ReportDataRepository } from './data/report-data.repository';
import { ReportDataService } from './data/report-data.service';
import { ReportDeliveriesRepository } from './delivery/report-deliveries.repository';
import { ReportDeliveryService } from './delivery/report-delivery.service';
import { ReportRunnerService } from './runs/report-runner.service';
import { ReportRunsRepository } from './runs/report-runs.repository';
import { ReportsController } from './runs/reports.controller';
import { ReportsService } from './runs/reports.service';
import { ReportSchedulesController } from './schedules/report-schedules.controller';
import { ReportSchedulesRepository } from './schedules/report-schedules.repository';
import { ReportSchedulesService } from './schedules/report-schedules.service';
import { ReportTemplatesRepository } from './templates/report-templates.repository';

/**
 * Reports: data sources over stored trading and security data, built-in and custom templates,
 * renderers (HTML/EJS, CSV/@json2csv, JSON, PDF/Chromium), runs as a PostgreSQL-claimed queue,
 * files with size and SHA-256, schedules and delivery. Emits `reporting.events.ts` events.
 */
@Module({
  imports: [AuditModule, TradingModule],
  controllers: [ReportsController, ReportSchedulesController],
  providers: [
    ReportDataRepository,
    ReportDataService,
    ReportRunsRepository,
    ReportTemplatesRepository,
    ReportsService,
    ReportRunnerService,
    ReportSchedulesRepository,
    ReportSchedulesService,
    ReportDeliveriesRepository,
    ReportDeliveryService,
  ],
  exports: [ReportsService],
})
export class ReportingModule {}

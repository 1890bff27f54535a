import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { DataSourceKey, ParamSpec } from '../data/data-sources';

export interface ReportTemplateRow {
  id: string;
  name: string;
  description: string;
  dataSource: DataSourceKey;
  parameters: ParamSpec[];
  body: string;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

interface RawTemplate {
  id: string;
  name: string;
  description: string;
  data_source: DataSourceKey;
  parameters: ParamSpec[];
  body: string;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

const mapTemplate = (r: RawTemplate): ReportTemplateRow => ({
  id: r.id,
  name: r.name,
  description: r.description,
  dataSource: r.data_source,
  parameters: r.parameters,
  body: r.body,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Custom report templates. */
@Injectable()
export class ReportTemplatesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(
    manager: EntityManager,
    t: {
      name: string;
      description: string;
      dataSource: DataSourceKey;
      parameters: ParamSpec[];
      body: string;
      createdBy: string;
    },
  ): Promise<ReportTemplateRow | null> {
    const rows = await manager.query<RawTemplate[]>(
      `INSERT INTO report_templates (name, description, data_source, parameters, body, created_by)
       VALUES ($1, $2, $3, $4::jsonb, $5, $6)
       ON CONFLICT DO NOTHING RETURNING *`,
      [t.name, t.description, t.dataSource, JSON.stringify(t.parameters), t.body, t.createdBy],
    );
    return rows.length ? mapTemplate(rows[0]) : null;
  }

  async find(id: string): Promise<ReportTemplateRow | null> {
    const rows = await this.dataSource.query<RawTemplate[]>(`SELECT * FROM report_templates WHERE id = $1`, [id]);
    return rows.length ? mapTemplate(rows[0]) : null;
  }

  async list(): Promise<ReportTemplateRow[]> {
    const rows = await this.dataSource.query<RawTemplate[]>(`SELECT * FROM report_templates ORDER BY lower(name), id`);
    return rows.map(mapTemplate);
  }
}

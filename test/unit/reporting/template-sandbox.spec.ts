import { renderInSandbox } from '../../../src/reporting/templates/template-sandbox';

const limits = { timeoutMs: 500, memoryMb: 32 };

describe('template sandbox', () => {
  it('renders with the data in scope and escapes output', async () => {
    const html = await renderInSandbox(
      '<p><%= title %>|<%= data.n %>|<%- "<i>" %></p>',
      { title: '<b>', n: 3 },
      limits,
    );
    expect(html).toBe('<p>&lt;b&gt;|3|<i></p>');
  });

  it('has nothing but the data in scope', async () => {
    const html = await renderInSandbox(
      '<%= typeof process %> <%= typeof require %> <%= typeof globalThis.process %> <%= typeof setTimeout %>',
      {},
      limits,
    );
    expect(html).toBe('undefined undefined undefined undefined');
  });

  it('a loop fails within the time limit', async () => {
    const started = Date.now();
    await expect(renderInSandbox('<% while (true) {} %>', {}, limits)).rejects.toThrow(/did not finish within 500 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('unbounded allocation fails on the memory limit', async () => {
    await expect(
      renderInSandbox(
        '<% const a = []; for (;;) a.push(new Array(100000).fill(a.length)); %>',
        {},
        { timeoutMs: 20000, memoryMb: 32 },
      ),
    ).rejects.toThrow(/memory limit|did not finish|failed/);
  });

  it('a throwing template fails with its message; eval is refused', async () => {
    await expect(renderInSandbox('<% throw new Error("boom") %>', {}, limits)).rejects.toThrow(/boom/);
    await expect(renderInSandbox('<%= eval("1+1") %>', {}, limits)).rejects.toThrow(/failed/);
  });
});

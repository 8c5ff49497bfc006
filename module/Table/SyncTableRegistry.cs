using System;
using System.Collections.Concurrent;
using System.Collections.Generic;

namespace SyncPool.Table;

/// <summary>
/// Named tables, visible from every runspace of the process (the assembly is
/// loaded once per process, so its statics are shared by all runspaces).
/// Names compare case-insensitively, like PowerShell names do.
/// </summary>
public static class SyncTableRegistry
{
    private static readonly ConcurrentDictionary<string, SyncTable> Tables = new(StringComparer.OrdinalIgnoreCase);

    public static SyncTable Create(string name, bool caseSensitive)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A table name cannot be empty.", nameof(name));
        var table = new SyncTable(caseSensitive, name);
        if (!Tables.TryAdd(name, table))
        {
            table.Dispose();
            throw new ArgumentException($"A SyncTable named '{name}' already exists. Use Get-SyncTable -Name '{name}' to reach it, or Remove-SyncTable first.", nameof(name));
        }
        return table;
    }

    /// <summary>Opens table <paramref name="name"/> on a Redis server and registers it under that name in this process.</summary>
    internal static SyncTable CreateRedis(string name, string address, bool caseSensitive, string? user, string? password, TimeSpan? lockExpiry)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A table name cannot be empty.", nameof(name));
        if (Tables.ContainsKey(name))
            throw new ArgumentException($"A SyncTable named '{name}' already exists in this process. Use Get-SyncTable -Name '{name}' to reach it, or Remove-SyncTable first.", nameof(name));
        var table = new SyncTable(address, name, caseSensitive, user, password, lockExpiry);
        if (!Tables.TryAdd(name, table))
        {
            table.Dispose();
            throw new ArgumentException($"A SyncTable named '{name}' already exists in this process. Use Get-SyncTable -Name '{name}' to reach it, or Remove-SyncTable first.", nameof(name));
        }
        return table;
    }

    public static SyncTable? Find(string name) => Tables.TryGetValue(name, out var table) ? table : null;

    public static IReadOnlyCollection<SyncTable> All => (IReadOnlyCollection<SyncTable>)Tables.Values;

    internal static void Forget(SyncTable table)
    {
        if (table.Name is not null) Tables.TryRemove(new KeyValuePair<string, SyncTable>(table.Name, table));
    }

    /// <summary>Disposes every named table (module removal).</summary>
    internal static void DisposeAll()
    {
        foreach (var table in Tables.Values) table.Dispose();
    }
}

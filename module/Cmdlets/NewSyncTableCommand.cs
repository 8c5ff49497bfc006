using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using SyncPool.Table;

namespace SyncPool.Cmdlets;

/// <summary>
/// New-SyncTable: creates a thread-safe table (optionally named, so every
/// runspace can find it), or with -Redis opens one on a Redis server that
/// every process opening the same name there shares.
/// </summary>
[Cmdlet(VerbsCommon.New, "SyncTable", DefaultParameterSetName = "InProcess")]
[OutputType(typeof(SyncTable))]
public sealed class NewSyncTableCommand : SyncPoolCmdlet
{
    /// <summary>Makes the table reachable by name from any runspace (Get-SyncTable -Name); names the table on the server with -Redis.</summary>
    [Parameter(Position = 0, ParameterSetName = "InProcess")]
    [Parameter(Position = 0, Mandatory = true, ParameterSetName = "Redis", ValueFromPipelineByPropertyName = true)]
    [Alias(PortableTable.NameNote)]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>Keys compare ordinally instead of case-insensitively.</summary>
    [Parameter]
    public SwitchParameter CaseSensitive { get; set; }

    /// <summary>Entries to start with (a hashtable or any dictionary).</summary>
    [Parameter]
    public IDictionary? InitialValue { get; set; }

    /// <summary>The Redis server to keep the table on: redis://host:port/database.</summary>
    /// <remarks>
    /// Bound by property name too: a Redis table that reached another process
    /// (Start-Job -ArgumentList) opens again there with <c>$t | New-SyncTable</c>
    /// (see <see cref="PortableTable"/>).
    /// </remarks>
    [Parameter(Mandatory = true, ParameterSetName = "Redis", ValueFromPipelineByPropertyName = true)]
    [Alias(PortableTable.RedisNote)]
    [ValidateNotNullOrEmpty]
    public string? Redis { get; set; }

    /// <summary>The password (and ACL user name, unless empty or 'default') for the Redis server.</summary>
    [Parameter(ParameterSetName = "Redis")]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>How long a key lock on a Redis table outlives its holder's process (renewed while it runs);
    /// not given: the core's default.</summary>
    [Parameter(ParameterSetName = "Redis")]
    [ValidateRange(0.001, 86400)]
    public double? LockExpirySeconds { get; set; }

    protected override void ProcessRecord()
    {
        SyncTable? table = null;
        try
        {
            if (Redis is not null)
            {
                string? user = null, password = null;
                if (Credential is not null && Credential != PSCredential.Empty)
                {
                    user = Credential.UserName;
                    password = Credential.GetNetworkCredential().Password;
                }
                WriteVerbose($"Opening SyncTable '{Name}' on the Redis server given by -Redis (credentials are never shown).");
                table = SyncTableRegistry.CreateRedis(Name!, Redis, CaseSensitive, user, password, LockExpirySeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null);
                WriteVerbose($"Opened SyncTable '{Name}' on {table.RedisAddress}.");
            }
            else
            {
                table = Name is null ? new SyncTable(CaseSensitive) : SyncTableRegistry.Create(Name, CaseSensitive);
            }
            if (InitialValue is not null) SetInitialValues(table, InitialValue);
            WriteObject(PortableTable.ForPipeline(table));
        }
        catch (Exception e)
        {
            table?.Dispose();
            ThrowFailure(e, Name);
        }
    }

    /// <summary>
    /// Writes the entries, refusing two that are one key in this table (a
    /// case-sensitive dictionary holding 'a' and 'A' for a table that ignores
    /// case, or [int]1 and [long]1): the second would silently replace the
    /// first. Every key is checked before anything is written, so a refused
    /// -InitialValue leaves a Redis table it attached to as it was.
    /// </summary>
    private static void SetInitialValues(SyncTable table, IDictionary entries)
    {
        var keys = new List<object>(entries.Count);
        foreach (DictionaryEntry entry in entries) keys.Add(entry.Key);
        if (table.FirstDuplicateKey(keys) is var (first, second))
            throw new ArgumentException(
                $"-InitialValue holds the keys '{keys[first]}' and '{keys[second]}', which are one key in this table. Merge them{(table.CaseSensitive ? "" : ", or add -CaseSensitive if they differ in case")}.",
                nameof(InitialValue));
        foreach (DictionaryEntry entry in entries) table.Set(entry.Key, entry.Value);
    }
}

using System.Management.Automation;

namespace SyncPool.Table;

/// <summary>
/// What a table on a Redis server takes along when PowerShell copies it to
/// another process (Start-Job -ArgumentList, Invoke-Command, Export-Clixml):
/// its name and server address, never a password, so that the other process
/// opens the same table again with <c>$t | New-SyncTable</c>.
/// </summary>
/// <remarks>
/// PowerShell serializes any dictionary as a copy of its entries plus the
/// instance properties of the PSObject holding it; a plain object would
/// arrive as a hashtable copy that silently takes the job's updates (the
/// seed's synchronized-hashtable trap). So the cmdlets write a Redis table
/// wrapped in a PSObject with these two notes; New-SyncTable binds them by
/// property name (they are aliases of -Name and -Redis). An in-process table
/// cannot be shared with another process and carries no notes.
/// </remarks>
internal static class PortableTable
{
    /// <summary>Note holding the table's name (alias of New-SyncTable -Name).</summary>
    public const string NameNote = "SyncPoolName";

    /// <summary>Note holding the server address without credentials (alias of New-SyncTable -Redis).</summary>
    public const string RedisNote = "SyncPoolRedis";

    /// <summary>The object cmdlets write for <paramref name="table"/>: itself, or for a Redis table a PSObject carrying the notes.</summary>
    public static object ForPipeline(SyncTable table)
    {
        if (table.RedisAddress is null) return table;
        var wrapped = PSObject.AsPSObject(table);
        // Instance notes of a reference type stay with the object, so a second
        // wrapping (Get-SyncTable after New-SyncTable) finds them already there.
        if (wrapped.Properties[NameNote] is null) wrapped.Properties.Add(new PSNoteProperty(NameNote, table.Name));
        if (wrapped.Properties[RedisNote] is null) wrapped.Properties.Add(new PSNoteProperty(RedisNote, table.RedisAddress));
        return wrapped;
    }
}

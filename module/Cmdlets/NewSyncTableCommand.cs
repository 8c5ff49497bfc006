using System.Collections;
using System.Management.Automation;
using SyncPool.Table;

namespace SyncPool.Cmdlets;

/// <summary>New-SyncTable: creates a thread-safe table (optionally named, so every runspace can find it).</summary>
[Cmdlet(VerbsCommon.New, "SyncTable")]
[OutputType(typeof(SyncTable))]
public sealed class NewSyncTableCommand : SyncPoolCmdlet
{
    /// <summary>Makes the table reachable by name from any runspace (Get-SyncTable -Name).</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>Keys compare ordinally instead of case-insensitively.</summary>
    [Parameter]
    public SwitchParameter CaseSensitive { get; set; }

    /// <summary>Entries to start with (a hashtable or any dictionary).</summary>
    [Parameter]
    public IDictionary? InitialValue { get; set; }

    protected override void EndProcessing()
    {
        SyncTable? table = null;
        try
        {
            table = Name is null ? new SyncTable(CaseSensitive) : SyncTableRegistry.Create(Name, CaseSensitive);
            if (InitialValue is not null)
                foreach (DictionaryEntry entry in InitialValue) table.Set(entry.Key, entry.Value);
            WriteObject(table);
        }
        catch (System.Exception e)
        {
            table?.Dispose();
            ThrowFailure(e, Name);
        }
    }
}

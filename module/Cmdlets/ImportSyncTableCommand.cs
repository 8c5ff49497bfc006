using System;
using System.Collections;
using System.IO;
using System.Management.Automation;
using SyncPool.Table;

namespace SyncPool.Cmdlets;

/// <summary>
/// Import-SyncTable: reads a file written by Export-SyncTable (JSON or CLIXML)
/// into a new table, or into -Table. JSON imports are all-or-nothing.
/// </summary>
[Cmdlet(VerbsData.Import, "SyncTable")]
[OutputType(typeof(SyncTable))]
public sealed class ImportSyncTableCommand : SyncPoolCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = null!;

    /// <summary>Load into this table instead of a new one.</summary>
    [Parameter]
    public SyncTable? Table { get; set; }

    /// <summary>Name for the new table (see New-SyncTable -Name).</summary>
    [Parameter]
    public string? Name { get; set; }

    [Parameter]
    public SwitchParameter CaseSensitive { get; set; }

    /// <summary>With -Table: clear it first.</summary>
    [Parameter]
    public SwitchParameter Replace { get; set; }

    protected override void ProcessRecord()
    {
        string path = GetUnresolvedProviderPathFromPSPath(Path);
        SyncTable? created = null;
        try
        {
            string text = File.ReadAllText(path);
            var table = Table ?? (created = Name is null ? new SyncTable(CaseSensitive) : SyncTableRegistry.Create(Name, CaseSensitive));
            if (text.TrimStart().StartsWith("<Objs", StringComparison.Ordinal))
            {
                var data = PSSerializer.Deserialize(text);
                if ((data as PSObject)?.BaseObject is not IDictionary entries)
                    throw new InvalidDataException($"'{path}' is CLIXML but does not hold a table.");
                if (Replace) table.Clear();
                foreach (DictionaryEntry entry in entries) table.Set(entry.Key, entry.Value);
            }
            else
            {
                table.ImportJson(text, Replace);
            }
            WriteObject(table);
        }
        catch (Exception e)
        {
            created?.Dispose();
            WriteFailure(e is InvalidDataException ? new ArgumentException(e.Message, e) : e, path);
        }
    }
}

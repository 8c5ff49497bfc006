using System.Collections.Generic;
using System.Management.Automation.Runspaces;
using System.Text;

namespace SyncPool.Pool;

/// <summary>
/// The PowerShell functions that run a batch's tasks, one per way input can
/// reach a script. They are defined in every worker runspace (part of its
/// initial session state), so a batch is one function call with the task's
/// script as a scriptblock argument.
/// </summary>
/// <remarks>
/// Why functions and not a script: PowerShell parses and compiles the text
/// of <c>AddScript</c> on every invocation (no cache), and compiling (with
/// its security scan) cost more than running a batch of tiny tasks. A
/// function is compiled once per process; the task's script, created with
/// <see cref="System.Management.Automation.ScriptBlock.Create(string)"/>, hits
/// PowerShell's process-wide scriptblock cache, so it is compiled once too.
/// Each task still gets its own invocation of the script (its own
/// begin/process/end and terminating error); a stray top-level
/// <c>break</c>/<c>continue</c> ends only that task (the <c>do {} while</c>).
/// The functions are trusted code: they only run in FullLanguage runspaces
/// (a ConstrainedLanguage caller's tasks run one pipeline each, see
/// <see cref="BatchRunner"/>).
/// </remarks>
internal static class BatchDrivers
{
    /// <summary>Parameter names of every driver: the batch's cursor and the task's script.</summary>
    public const string CursorParameter = "__sp";
    public const string BodyParameter = "__spBody";

    /// <summary>
    /// A plain body (<c>{ $_ * 2 }</c>, wrapped in <c>process {}</c>) over
    /// the items: one invocation whose process block runs once per item, the
    /// cheapest per-item path PowerShell has (about five times cheaper than
    /// ForEach-Object, which binds its parameters for every item). With no
    /// begin or end block, that is the same as one invocation per item.
    /// </summary>
    public const string EachItem = "__SyncPoolEachItem";

    private const string Prefix = "__SyncPoolEach";

    /// <summary>The driver for tasks whose input arrives as <paramref name="delivery"/>, one invocation per task.</summary>
    public static string EachTask(InputDelivery delivery, bool batches) => Prefix + Suffix(delivery, batches);

    /// <summary>Every driver, as session state entries.</summary>
    public static IEnumerable<SessionStateFunctionEntry> Entries()
    {
        foreach (var (name, definition) in Definitions()) yield return new SessionStateFunctionEntry(name, definition);
    }

    /// <summary>Every driver: its name and its text.</summary>
    public static IEnumerable<KeyValuePair<string, string>> Definitions()
    {
        yield return new(EachItem,
            $"param(${CursorParameter}, ${BodyParameter})\n" +
            // A terminating error (or break/continue) ends this pipeline; the
            // runner ends that task and starts a new pipeline for the rest.
            "try {\n" +
            "    do {\n" +
            $"        ${CursorParameter}.Inputs() | & ${BodyParameter}\n" +
            "    } while ($false)\n" +
            "}\n" +
            "catch {\n" +
            $"    ${CursorParameter}.Fail($_)\n" +
            "}\n");
        foreach (var delivery in new[] { InputDelivery.None, InputDelivery.Pipeline, InputDelivery.DollarUnderscore, InputDelivery.Pipeline | InputDelivery.DollarUnderscore })
        {
            foreach (bool batches in new[] { false, true })
            {
                if (batches && delivery != InputDelivery.Pipeline) continue; // a batch arrives only as pipeline input
                yield return new(EachTask(delivery, batches), EachTaskText(delivery, batches));
            }
        }
    }

    private static string Suffix(InputDelivery delivery, bool batches)
    {
        var name = new StringBuilder();
        if ((delivery & InputDelivery.Pipeline) != 0) name.Append(batches ? "Batch" : "Piped");
        if ((delivery & InputDelivery.DollarUnderscore) != 0) name.Append("Underscore");
        return name.Length == 0 ? "Task" : name.ToString();
    }

    private static string EachTaskText(InputDelivery delivery, bool batches)
    {
        var call = new StringBuilder();
        call.Append("            $__spArgs = $").Append(CursorParameter).Append(".Arguments\n");
        if ((delivery & InputDelivery.DollarUnderscore) != 0) call.Append("            $_ = $").Append(CursorParameter).Append(".Input\n");
        call.Append("            ");
        if ((delivery & InputDelivery.Pipeline) != 0) call.Append(batches ? "$" : ",$").Append(CursorParameter).Append(".Input | ");
        call.Append("& $").Append(BodyParameter).Append(" @__spArgs\n");
        return
            $"param(${CursorParameter}, ${BodyParameter})\n" +
            $"while (${CursorParameter}.MoveNext()) {{\n" +
            "    try {\n" +
            "        do {\n" +
            call +
            "        } while ($false)\n" +
            "    }\n" +
            "    catch {\n" +
            $"        ${CursorParameter}.Fail($_)\n" +
            "    }\n" +
            "}\n";
    }
}

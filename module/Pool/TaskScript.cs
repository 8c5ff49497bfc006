using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace SyncPool.Pool;

/// <summary>
/// Facts about a script's syntax that decide how its input is delivered.
/// Read from the parsed script by the cmdlet (<c>ScriptAnalysis</c>); plain
/// data so the decisions built on it can be tested without PowerShell.
/// Offsets are into the script text exactly as it will be sent.
/// </summary>
public sealed record ScriptShape
{
    /// <summary>The script has named begin/process/end/dynamicparam blocks.</summary>
    public bool HasNamedBlocks { get; init; }

    /// <summary>Start and end offsets of the statements of an unnamed (implicit end) block; -1 if none or empty.</summary>
    public int BodyStart { get; init; } = -1;
    public int BodyEnd { get; init; } = -1;

    /// <summary>[CmdletBinding()] or any [Parameter()] attribute: unbound arguments and input are errors.</summary>
    public bool IsAdvanced { get; init; }

    /// <summary>A parameter takes ValueFromPipeline or ValueFromPipelineByPropertyName.</summary>
    public bool TakesPipelineInput { get; init; }

    /// <summary>The script reads the automatic <c>$input</c> enumerator (it handles pipeline input itself).</summary>
    public bool UsesInputVariable { get; init; }

    /// <summary>The script declares a param() block with at least one parameter.</summary>
    public bool HasParameters { get; init; }

    /// <summary>The body defines classes or enums (which must stay at the script's top level, so it is not wrapped).</summary>
    public bool DefinesTypes { get; init; }

    /// <summary>The script has <c>using</c> statements or <c>#requires</c>, which only a whole script can have.</summary>
    public bool HasScriptDirectives { get; init; }

    /// <summary>The script reads the automatic <c>$args</c> (it expects the item as a positional argument).</summary>
    public bool UsesArgsVariable { get; init; }

    /// <summary>A script with nothing that affects input delivery (no param block, one unnamed block).</summary>
    public static ScriptShape Simple(string text) => new() { BodyStart = 0, BodyEnd = text.Length };
}

/// <summary>How a task's input reaches its script.</summary>
[Flags]
public enum InputDelivery
{
    None = 0,
    /// <summary>The items are the script's pipeline input: <c>$_</c>/<c>$PSItem</c> in process blocks, <c>$input</c>, ValueFromPipeline parameters.</summary>
    Pipeline = 1,
    /// <summary>The item is the first positional argument (before -ArgumentList), for <c>param($x)</c>.</summary>
    FirstArgument = 2,
    /// <summary><c>$_</c> is set as a variable before the script runs (for scripts that cannot take pipeline input).</summary>
    DollarUnderscore = 4,
}

/// <summary>
/// Everything a worker needs to run one Start-ParallelTask call's script,
/// prepared once on the caller's thread and shared by all of that call's
/// tasks. Holds no PowerShell objects: the script travels as text (a
/// scriptblock is bound to the runspace that parsed it; running it on
/// another thread corrupts that runspace), and the worker parses it in its
/// own runspace. PowerShell caches compiled script text process-wide, so
/// the text is parsed once, not once per item.
/// </summary>
public sealed class TaskScript
{
    private static readonly IReadOnlyDictionary<string, object?> NoValues = new Dictionary<string, object?>();

    private static long s_lastGroup;

    private TaskScript(string text, string runText, ScriptShape shape, IReadOnlyDictionary<string, object?> usingValues,
        IReadOnlyList<object?> arguments, IReadOnlyDictionary<string, object?> variables, string? workingDirectory, int batchSize)
    {
        GroupId = (ulong)System.Threading.Interlocked.Increment(ref s_lastGroup);
        Text = text;
        RunText = runText;
        Shape = shape;
        UsingValues = usingValues;
        Arguments = arguments;
        Variables = variables;
        WorkingDirectory = workingDirectory;
        BatchSize = batchSize;
    }

    /// <summary>
    /// Prepares a script. <paramref name="usingValues"/> is keyed as
    /// PowerShell keys $using: values (see <see cref="UsingKey"/>);
    /// <paramref name="variables"/> are set in the worker's runspace before
    /// each task; <paramref name="batchSize"/> 0 means one item per task.
    /// </summary>
    public static TaskScript Create(string text, ScriptShape? shape = null, IReadOnlyDictionary<string, object?>? usingValues = null,
        IReadOnlyList<object?>? arguments = null, IReadOnlyDictionary<string, object?>? variables = null, string? workingDirectory = null,
        int batchSize = 0)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (batchSize < 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "BatchSize cannot be negative.");
        shape ??= ScriptShape.Simple(text);
        if (batchSize > 0 && !CanTakePipelineInput(shape))
        {
            throw new ArgumentException(
                "-BatchSize sends each batch's items to the script as pipeline input, but this script is an advanced script " +
                "([CmdletBinding()] or [Parameter()]) with no ValueFromPipeline parameter, so it cannot receive them. " +
                "Add [Parameter(ValueFromPipeline)] to a parameter, or leave out -BatchSize.");
        }
        string runText = ShouldWrapBody(shape) ? WrapBodyInProcessBlock(text, shape.BodyStart, shape.BodyEnd) : text;
        return new TaskScript(text, runText, shape, usingValues ?? NoValues, arguments ?? Array.Empty<object?>(),
            variables ?? NoValues, workingDirectory, batchSize);
    }

    /// <summary>The script as the user wrote it.</summary>
    public string Text { get; }

    /// <summary>What is actually run: <see cref="Text"/>, or it with its body wrapped in <c>process {}</c> so <c>$_</c> sees each item.</summary>
    public string RunText { get; }

    public ScriptShape Shape { get; }

    /// <summary>$using: values by PowerShell's key (passed as the <c>--%</c> parameter).</summary>
    public IReadOnlyDictionary<string, object?> UsingValues { get; }

    /// <summary>-ArgumentList, passed positionally after the item (if the item is passed as an argument).</summary>
    public IReadOnlyList<object?> Arguments { get; }

    /// <summary>Variables set in the runspace before each task (after it is reset).</summary>
    public IReadOnlyDictionary<string, object?> Variables { get; }

    /// <summary>The caller's file-system location; tasks start there.</summary>
    public string? WorkingDirectory { get; }

    /// <summary>Items per task; 0 = one item per task.</summary>
    public int BatchSize { get; }

    /// <summary>Tasks of one script are one group for the engine: only they share a batch.</summary>
    public ulong GroupId { get; }

    /// <summary>
    /// Whether several tasks can run in one pipeline (<see cref="BatchDriverFor(bool)"/>):
    /// the script can be nested in a scriptblock (no classes, no
    /// <c>using</c>/<c>#requires</c>).
    /// </summary>
    public bool CanBatch => !Shape.DefinesTypes && !Shape.HasScriptDirectives;

    /// <summary>
    /// How a batch of this script's tasks runs: the driver function (see
    /// <see cref="BatchDrivers"/>) that invokes the script once per task the
    /// cursor hands out, with that task's input delivered as
    /// <see cref="DeliveryFor(ParallelTask)"/> says, and the script text it
    /// invokes (the same text for every batch, so PowerShell compiles it once).
    /// </summary>
    public (string Driver, string Body) BatchDriverFor(ParallelTask task) => BatchDriverFor(task.HasInput);

    public (string Driver, string Body) BatchDriverFor(bool hasInput)
    {
        if (hasInput && IsPlainBody) return (BatchDrivers.EachItem, RunText);
        // One call shape per script: all tasks of a call have input, or the call's single task has none;
        // all are batches (-BatchSize) or none is.
        bool batches = BatchSize > 0;
        var delivery = !hasInput ? InputDelivery.None : batches ? InputDelivery.Pipeline : DeliveryForItem();
        // Items come through the pipeline: the body runs per item in its process block (RunText).
        string body = (delivery & InputDelivery.Pipeline) != 0 ? RunText : Text;
        // The item as an argument travels in the cursor's Arguments, so it does not change the driver.
        return (BatchDrivers.EachTask(delivery & ~InputDelivery.FirstArgument, batches), body);
    }

    /// <summary>
    /// A plain body (<c>{ $_ * 2 }</c>: no param block, no named blocks, no
    /// <c>$input</c>/<c>$args</c>, no -ArgumentList) runs as one process
    /// block over all the batch's items (<see cref="BatchDrivers.EachItem"/>):
    /// the common case of many tiny items costs what a pipeline costs.
    /// </summary>
    private bool IsPlainBody =>
        !Shape.HasNamedBlocks && !Shape.HasParameters && !Shape.IsAdvanced && !Shape.UsesInputVariable && !Shape.UsesArgsVariable
        && Arguments.Count == 0 && BatchSize == 0;

    /// <summary>How one item reaches the script (tasks of a call without -BatchSize).</summary>
    private InputDelivery DeliveryForItem()
    {
        var delivery = InputDelivery.None;
        bool pipeline = CanTakePipelineInput(Shape);
        if (pipeline) delivery |= InputDelivery.Pipeline;
        if (!Shape.TakesPipelineInput) delivery |= InputDelivery.FirstArgument;
        if (!pipeline || (!Shape.HasNamedBlocks && !ShouldWrapBody(Shape))) delivery |= InputDelivery.DollarUnderscore;
        return delivery;
    }

    /// <summary>
    /// How the input of <paramref name="task"/> reaches the script:
    /// <list type="bullet">
    /// <item>no input: nothing;</item>
    /// <item>a batch: pipeline input only (the script runs once for the batch);</item>
    /// <item>one item: pipeline input when the script can take it (so <c>process {}</c>,
    /// <c>$_</c> and ValueFromPipeline parameters work), and also the first positional
    /// argument unless a parameter takes pipeline input (so <c>param($x)</c> works);
    /// <c>$_</c> is also set as a variable when no process block will set it (an
    /// advanced script without pipeline parameters, a body left unwrapped).</item>
    /// </list>
    /// </summary>
    public InputDelivery DeliveryFor(ParallelTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        return DeliveryFor(task.HasInput, task.IsBatch);
    }

    public InputDelivery DeliveryFor(bool hasInput, bool isBatch) =>
        !hasInput ? InputDelivery.None : isBatch ? InputDelivery.Pipeline : DeliveryForItem();

    /// <summary>
    /// The text to run for <paramref name="task"/>: <see cref="RunText"/> when it
    /// has input, the script as written when it runs on its own (no item for a
    /// process block to see).
    /// </summary>
    public string TextFor(ParallelTask task) => TextFor(task.HasInput);

    public string TextFor(bool hasInput) => hasInput ? RunText : Text;

    /// <summary>The pipeline input for <paramref name="task"/>, or null when the script gets none.</summary>
    public IReadOnlyList<object?>? PipelineInputFor(ParallelTask task) => PipelineInputFor(task.Input, task.HasInput, task.IsBatch);

    public IReadOnlyList<object?>? PipelineInputFor(object? input, bool hasInput, bool isBatch)
    {
        if ((DeliveryFor(hasInput, isBatch) & InputDelivery.Pipeline) == 0) return null;
        return input is TaskBatch batch ? batch : new[] { input };
    }

    /// <summary>The positional arguments for <paramref name="task"/>: maybe its item, then -ArgumentList.</summary>
    public IReadOnlyList<object?> ArgumentsFor(ParallelTask task) => ArgumentsFor(task.Input, task.HasInput, task.IsBatch);

    public IReadOnlyList<object?> ArgumentsFor(object? input, bool hasInput, bool isBatch)
    {
        if ((DeliveryFor(hasInput, isBatch) & InputDelivery.FirstArgument) == 0) return Arguments;
        var all = new object?[Arguments.Count + 1];
        all[0] = input;
        for (int i = 0; i < Arguments.Count; i++) all[i + 1] = Arguments[i];
        return all;
    }

    /// <summary>Whether PowerShell accepts pipeline input for this script at all (an advanced script needs a pipeline parameter).</summary>
    public static bool CanTakePipelineInput(ScriptShape shape) => !shape.IsAdvanced || shape.TakesPipelineInput;

    /// <summary>
    /// A body-only script (<c>{ $_ * 2 }</c>) runs as an end block, where
    /// <c>$_</c> is not the pipeline item; wrapped in <c>process {}</c> it runs
    /// once per item. Not done when the script has named blocks (it chose),
    /// reads <c>$input</c> (it enumerates the input itself), defines classes
    /// (they must stay at the top level) or cannot take pipeline input.
    /// </summary>
    public static bool ShouldWrapBody(ScriptShape shape) =>
        !shape.HasNamedBlocks && !shape.UsesInputVariable && !shape.DefinesTypes && CanTakePipelineInput(shape)
        && shape.BodyStart >= 0 && shape.BodyEnd > shape.BodyStart;

    /// <summary>
    /// <paramref name="text"/> with the statements between the offsets put in
    /// a <c>process {}</c> block; what comes before (comments, <c>using</c>
    /// statements, the param block) and after stays where it was. The opening
    /// brace goes on the body's first line, so every line keeps its number
    /// (errors and stack traces name the user's lines, as ForEach-Object
    /// -Parallel's do); the closing one goes on a line of its own, so a
    /// trailing comment in the body cannot swallow it.
    /// </summary>
    public static string WrapBodyInProcessBlock(string text, int bodyStart, int bodyEnd)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (bodyStart < 0 || bodyEnd < bodyStart || bodyEnd > text.Length)
            throw new ArgumentOutOfRangeException(nameof(bodyStart), $"The body [{bodyStart}, {bodyEnd}) is outside the script (length {text.Length}).");
        var sb = new StringBuilder(text.Length + 16);
        sb.Append(text, 0, bodyStart);
        sb.Append("process { ");
        sb.Append(text, bodyStart, bodyEnd - bodyStart);
        sb.Append("\n}");
        sb.Append(text, bodyEnd, text.Length - bodyEnd);
        return sb.ToString();
    }

    public override string ToString() => Text.Length <= 60 ? Text.Trim() : Text[..57].Trim() + "...";
}

/// <summary>
/// The key PowerShell looks a <c>$using:</c> value up by when a script runs
/// with the <c>--%</c> parameter (what ForEach-Object -Parallel,
/// Start-ThreadJob and Invoke-Command send): base64 of the UTF-16LE bytes of
/// the using expression's text, i.e. <c>UsingExpressionAst.ToString()</c>
/// including the <c>$using:</c> prefix. The text is lower-cased (invariant)
/// only when the expression is a plain variable (<c>$using:X</c> and
/// <c>$USING:x</c> share a key), never when it has a member or index
/// (<c>$using:h['A']</c> and <c>$using:h['a']</c> differ). Mirrors
/// System.Management.Automation's internal PsUtils.GetUsingExpressionKey,
/// which the worker applies to the same text when it reads the value.
/// </summary>
public static class UsingKey
{
    public static string For(string usingExpressionText, bool isPlainVariable)
    {
        ArgumentNullException.ThrowIfNull(usingExpressionText);
        string text = isPlainVariable ? usingExpressionText.ToLowerInvariant() : usingExpressionText;
        return Convert.ToBase64String(Encoding.Unicode.GetBytes(text));
    }
}

/// <summary>What a pool's runspaces are created with (New-ParallelPool, or one Start-ParallelTask call); variables are set per batch, not here.</summary>
public sealed class RunspaceSettings
{
    /// <summary>Modules imported into every runspace (paths or names), in order.</summary>
    public IReadOnlyList<string> Modules { get; init; } = Array.Empty<string>();

    /// <summary>Function definitions (name, body text) defined in every runspace.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Functions { get; init; } = Array.Empty<KeyValuePair<string, string>>();

    /// <summary>Run scripts in ConstrainedLanguage (the caller is locked down).</summary>
    public bool ConstrainedLanguage { get; init; }


    /// <summary>Equal for settings that give equal runspaces (what warm runspaces are shared by).</summary>
    public string Signature
    {
        get
        {
            var sb = new StringBuilder();
            sb.Append(ConstrainedLanguage ? "CL" : "FL").Append('\0');
            foreach (var m in Modules) sb.Append("m:").Append(m).Append('\0');
            foreach (var (name, definition) in Functions) sb.Append("f:").Append(name).Append('=').Append(definition).Append('\0');
            return sb.ToString();
        }
    }

    /// <summary>Names of the modules and functions, for display.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        if (Modules.Count > 0) parts.Add("Modules: " + string.Join(", ", Modules));
        if (Functions.Count > 0) parts.Add("Functions: " + string.Join(", ", Functions.Select(f => f.Key)));
        if (ConstrainedLanguage) parts.Add("ConstrainedLanguage");
        return parts.Count == 0 ? "(defaults)" : string.Join("; ", parts);
    }
}

<#
.SYNOPSIS
    PowerShell-level benchmarks of SyncTable against [hashtable]::Synchronized(@{})
    (plain and Monitor-locked) and ConcurrentDictionary[string,object].

.DESCRIPTION
    Measures, from PowerShell, every figure the SyncTable issue sets a target for:

      1. One runspace, -Iterations iterations of a `for` loop per measurement, in two
         loop forms (the table and the count as a scriptblock's parameters, and as
         script variables the loop looks up, as at a prompt or in a script). Times
         are whole loop iterations (the empty loop is shown for reference):
           read   $null = $t.c          SyncTable / hashtable <= 1.25
           read   $null = $t['c']       (reported, no target)
           write  $t.c = $k             SyncTable / hashtable <= 1.15
           update [void]$t.Increment('c') against Monitor-locked $h.c++: >= 2x faster
      2. -Runspaces runspaces (a pool opened before timing) each updating one key
         -IncrementsPerRunspace times: SyncTable.Increment against the Monitor-locked
         hashtable (>= 2x faster), exact totals (0 updates lost).
      3. Memory of -MemoryEntries short string keys with int values, each structure
         filled in its own fresh pwsh: working-set growth, SyncTable / hashtable <= 1.0.

    Every measurement is repeated -Rounds times with the variants interleaved; the
    minimum and the median are reported, and every ratio compares two figures of this
    same run (the minimum of each, and the median of each). Results are printed and
    written as markdown to <ResultsDir>/table-<yyyyMMdd-HHmmss>.md and table-latest.md.

.PARAMETER ModulePath
    The staged module folder (out/SyncPool) or its manifest.

.PARAMETER ResultsDir
    Folder for the markdown results (created if missing).

.PARAMETER Iterations
    Loop iterations per one-runspace measurement.

.PARAMETER Runspaces
    Runspaces updating the shared key at once.

.PARAMETER IncrementsPerRunspace
    Updates each runspace makes per contended measurement.

.PARAMETER MemoryEntries
    Entries for the memory comparison.

.PARAMETER MemoryRuns
    Child processes per structure for the memory comparison (the median is reported).

.PARAMETER Rounds
    Repeats of every timed measurement (at least 3).

.EXAMPLE
    pwsh -NoProfile -File tests/bench/table.bench.ps1 -ModulePath ./out/SyncPool -ResultsDir ./tests/bench/results

    What the build's Bench task runs (the issue's sizes).

.EXAMPLE
    pwsh -NoProfile -File tests/bench/table.bench.ps1 -ModulePath ./out/SyncPool -ResultsDir /tmp/bench -Iterations 30000 -IncrementsPerRunspace 5000 -MemoryEntries 100000 -MemoryRuns 1 -Rounds 3

    A quick run with smaller sizes.
#>
#Requires -Version 7.4
[CmdletBinding()]
param(
    [Parameter(Mandatory)][string]$ModulePath,
    [Parameter(Mandatory)][string]$ResultsDir,
    [ValidateRange(1, 1000000000)][int]$Iterations = 300000,
    [ValidateRange(1, 64)][int]$Runspaces = 4,
    [ValidateRange(1, 1000000000)][int]$IncrementsPerRunspace = 50000,
    [ValidateRange(1, 1000000000)][int]$MemoryEntries = 1000000,
    [ValidateRange(1, 10)][int]$MemoryRuns = 3,
    [ValidateRange(3, 50)][int]$Rounds = 5
)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
$ResultsDir = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($ResultsDir)
$null = New-Item -ItemType Directory -Force -Path $ResultsDir
Import-Module $ModulePath -Force

. (Join-Path $PSScriptRoot 'BenchSupport.ps1')

# The command line that starts a fresh pwsh like this one. Under 'dotnet tool run pwsh'
# the process is the dotnet host, which needs pwsh.dll as its first argument.
function Get-PwshCommand {
    $exe = [Environment]::ProcessPath
    $entry = [Environment]::GetCommandLineArgs()[0]
    if ($entry -like '*.dll') { return [pscustomobject]@{ File = $exe; Prefix = @($entry) } }
    [pscustomobject]@{ File = $exe; Prefix = @() }
}

# Min and median of a list of numbers.
function Get-Summary {
    param([double[]]$Values)
    [pscustomobject]@{ Min = [double]($Values | Measure-Object -Minimum).Minimum; Median = Get-Median $Values }
}

function Format-Us { param([double]$Seconds) Format-Number ($Seconds * 1e6) 'N3' }

# ---- 1. one runspace ---------------------------------------------------------------------

# Each loop is written out once per form, for every structure alike. Form "parameters":
# the loop's table and count are its parameters (local variables: the cheapest loop
# PowerShell runs). Form "script variables": the loop reads $Subject and $Count from
# the script's scope, as code typed at a prompt or written in a script does.
$script:LoopBodies = [ordered]@{
    empty     = ''
    read      = '$null = $Subject.c'
    index     = '$null = $Subject[''c'']'
    write     = '$Subject.c = $i'
    increment = '[void]$Subject.Increment(''c'')'
    locked    = '[Threading.Monitor]::Enter($Subject.SyncRoot); try { $Subject.c++ } finally { [Threading.Monitor]::Exit($Subject.SyncRoot) }'
    plain     = '$Subject.c++'
    addupdate = '[void]$Subject.AddOrUpdate(''c'', 1, $AddOne)'
}

function New-Loop {
    param([string]$Body, [string]$Form)
    if ($Form -eq 'parameters') {
        [scriptblock]::Create("param(`$Subject, `$Count, `$AddOne) for (`$i = 0; `$i -lt `$Count; `$i++) { $Body }")
    }
    else {
        [scriptblock]::Create("for (`$i = 0; `$i -lt `$Count; `$i++) { $Body }")
    }
}

# Times one loop once: seconds per iteration.
function Invoke-Loop {
    param([scriptblock]$Loop, [string]$Form, $Target)
    $script:Subject = $Target
    $script:Count = $Iterations
    [GC]::Collect()
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    if ($Form -eq 'parameters') { & $Loop $Target $Iterations $script:AddOne } else { & $Loop }
    $watch.Stop()
    $watch.Elapsed.TotalSeconds / $Iterations
}

function Invoke-OneRunspaceBench {
    Write-Report '## 1. One runspace: cost of a call, as whole loop iterations'
    Write-Report ''
    Write-Report "Each figure is the time of one iteration of a ``for`` loop of $(Format-Number $Iterations 'N0') iterations (loop included: the empty loop is shown), min and median of $Rounds rounds, every variant once per round in turn. Reads read key 'c' holding 1000000 (outside the table's small-int cache, so a SyncTable read allocates its box as it would for most values). SyncTable is made by New-SyncTable, the hashtable by ``[hashtable]::Synchronized(@{})``, the ConcurrentDictionary by ``[System.Collections.Concurrent.ConcurrentDictionary[string,object]]::new([StringComparer]::OrdinalIgnoreCase)``."
    Write-Report ''
    Write-Report 'Two loop forms: *parameters* (the table and the count are the scriptblock''s parameters, the cheapest loop PowerShell runs, so the call itself weighs most) and *script variables* (the loop looks `$Subject` and `$Count` up in the script''s scope, as code at a prompt or in a script does).'
    Write-Report ''

    $script:AddOne = [Func[string, object, object]] { param($key, $old) $old + 1 }
    $variants = @(
        @{ Name = 'empty'; Body = 'empty'; Kind = 'none' }
        @{ Name = 'read SyncTable'; Body = 'read'; Kind = 'sync' }
        @{ Name = 'read hashtable'; Body = 'read'; Kind = 'hash' }
        @{ Name = 'read ConcurrentDictionary'; Body = 'read'; Kind = 'concurrent' }
        @{ Name = 'index SyncTable'; Body = 'index'; Kind = 'sync' }
        @{ Name = 'index hashtable'; Body = 'index'; Kind = 'hash' }
        @{ Name = 'index ConcurrentDictionary'; Body = 'index'; Kind = 'concurrent' }
        @{ Name = 'write SyncTable'; Body = 'write'; Kind = 'sync' }
        @{ Name = 'write hashtable'; Body = 'write'; Kind = 'hash' }
        @{ Name = 'write ConcurrentDictionary'; Body = 'write'; Kind = 'concurrent' }
        @{ Name = 'Increment SyncTable'; Body = 'increment'; Kind = 'sync' }
        @{ Name = 'Monitor-locked ++ hashtable'; Body = 'locked'; Kind = 'hash' }
        @{ Name = 'plain ++ hashtable'; Body = 'plain'; Kind = 'hash' }
        @{ Name = 'AddOrUpdate ConcurrentDictionary'; Body = 'addupdate'; Kind = 'concurrent' }
    )
    $results = @{}
    foreach ($form in 'parameters', 'script variables') {
        $tables = @{
            none       = $null
            sync       = New-SyncTable
            hash       = [hashtable]::Synchronized(@{})
            concurrent = [System.Collections.Concurrent.ConcurrentDictionary[string, object]]::new([StringComparer]::OrdinalIgnoreCase)
        }
        $loops = @{}
        foreach ($v in $variants) { $loops[$v.Name] = New-Loop -Body $script:LoopBodies[$v.Body] -Form $form }
        $times = @{}
        foreach ($v in $variants) { $times[$v.Name] = [System.Collections.Generic.List[double]]::new() }
        # Warm-up: every loop and call site compiled before the first timed round.
        foreach ($t in $tables.Values) { if ($null -ne $t) { $t['c'] = 1000000 } }
        foreach ($v in $variants) { $null = Invoke-Loop -Loop $loops[$v.Name] -Form $form -Target $tables[$v.Kind] }
        for ($round = 0; $round -lt $Rounds; $round++) {
            foreach ($v in $variants) {
                $target = $tables[$v.Kind]
                if ($null -ne $target) { $target['c'] = 1000000 }
                $times[$v.Name].Add((Invoke-Loop -Loop $loops[$v.Name] -Form $form -Target $target))
            }
        }
        # Correctness: each round starts every table at 1000000, and the SyncTable's
        # last loop of a round is Increment: it must have counted exactly.
        if ([long]$tables.sync['c'] -ne 1000000 + $Iterations) {
            Add-Failure "SyncTable 'c' is $($tables.sync['c']) after the Increment loop; expected $(1000000 + $Iterations)."
        }
        foreach ($v in $variants) { $results["$form|$($v.Name)"] = Get-Summary $times[$v.Name].ToArray() }
        $tables.sync.Dispose()
    }

    Write-Report '| operation | form | SyncTable µs (min / median) | hashtable µs | ConcurrentDictionary µs | SyncTable / hashtable (min / median) | target | verdict (min) |'
    Write-Report '|---|---|---|---|---|---|---|---|'
    $script:OneRunspaceVerdicts = [System.Collections.Generic.List[object]]::new()
    foreach ($form in 'parameters', 'script variables') {
        $r = { param($name) $results["$form|$name"] }
        $empty = & $r 'empty'
        Write-Report "| empty loop | $form | $(Format-Us $empty.Min) / $(Format-Us $empty.Median) | | | | | |"
        foreach ($op in @(
                @{ Label = 'read `$null = $t.c`'; Sync = 'read SyncTable'; Hash = 'read hashtable'; Concurrent = 'read ConcurrentDictionary'; Target = 1.25; Direction = 'AtMost'; Text = '<= 1.25' }
                @{ Label = 'read `$null = $t[''c'']`'; Sync = 'index SyncTable'; Hash = 'index hashtable'; Concurrent = 'index ConcurrentDictionary'; Target = $null }
                @{ Label = 'write `$t.c = $i`'; Sync = 'write SyncTable'; Hash = 'write hashtable'; Concurrent = 'write ConcurrentDictionary'; Target = 1.15; Direction = 'AtMost'; Text = '<= 1.15' }
                @{ Label = 'atomic update: `[void]$t.Increment(''c'')` vs Monitor-locked `$h.c++` (ConcurrentDictionary: `AddOrUpdate`)'; Sync = 'Increment SyncTable'; Hash = 'Monitor-locked ++ hashtable'; Concurrent = 'AddOrUpdate ConcurrentDictionary'; Target = 0.5; Direction = 'AtMost'; Text = '<= 0.5 (>= 2x faster)' }
            )) {
            $s = & $r $op.Sync; $h = & $r $op.Hash; $c = & $r $op.Concurrent
            $ratioMin = $s.Min / $h.Min; $ratioMedian = $s.Median / $h.Median
            $verdict = if ($null -ne $op.Target) { Get-Verdict $ratioMin $op.Target $op.Direction } else { 'info' }
            Write-Report "| $($op.Label) | $form | $(Format-Us $s.Min) / $(Format-Us $s.Median) | $(Format-Us $h.Min) / $(Format-Us $h.Median) | $(Format-Us $c.Min) / $(Format-Us $c.Median) | $(Format-Number $ratioMin 'N2') / $(Format-Number $ratioMedian 'N2') | $(if ($op.Target) { $op.Text } else { '' }) | $verdict |"
            if ($null -ne $op.Target) { $script:OneRunspaceVerdicts.Add([pscustomobject]@{ Op = $op.Sync; Form = $form; Ratio = $ratioMin; Verdict = $verdict }) }
        }
        $plain = & $r 'plain ++ hashtable'
        Write-Report ('| (not atomic) plain `$h.c++` on the hashtable | ' + "$form | | $(Format-Us $plain.Min) / $(Format-Us $plain.Median) | | | | info |")
    }
    Write-Report ''
}

# ---- 2. several runspaces on one key ----------------------------------------------------------

$script:ContendedScripts = @{
    SyncTable  = 'param($t, $n, $ready, $gate) $null = $ready.Signal(); $gate.Wait(); for ($i = 0; $i -lt $n; $i++) { [void]$t.Increment(''c'') }'
    Locked     = 'param($h, $n, $ready, $gate) $null = $ready.Signal(); $gate.Wait(); for ($i = 0; $i -lt $n; $i++) { [Threading.Monitor]::Enter($h.SyncRoot); try { $h.c++ } finally { [Threading.Monitor]::Exit($h.SyncRoot) } }'
    Concurrent = 'param($d, $n, $ready, $gate) $add = [Func[string, object, object]] { param($key, $old) $old + 1 }; $null = $ready.Signal(); $gate.Wait(); for ($i = 0; $i -lt $n; $i++) { [void]$d.AddOrUpdate(''c'', 1, $add) }'
    Naive      = 'param($h, $n, $ready, $gate) $null = $ready.Signal(); $gate.Wait(); for ($i = 0; $i -lt $n; $i++) { $h.c++ }'
    # The same loop updating nothing: what every variant pays before its update.
    LoopAlone  = 'param($h, $n, $ready, $gate) $null = $ready.Signal(); $gate.Wait(); for ($i = 0; $i -lt $n; $i++) { }'
}

# Starts $Workers copies of $Script on $Pool, lets them all reach the start line, then
# times from the start signal until the last one has finished. Returns seconds.
function Invoke-Contended {
    param($Pool, [string]$Script, $Target, [int]$Workers, [int]$Each)
    $ready = [System.Threading.CountdownEvent]::new($Workers)
    $gate = [System.Threading.ManualResetEventSlim]::new($false)
    $jobs = [System.Collections.Generic.List[object]]::new()
    try {
        for ($w = 0; $w -lt $Workers; $w++) {
            $ps = [powershell]::Create()
            $ps.RunspacePool = $Pool
            $null = $ps.AddScript($Script).AddArgument($Target).AddArgument($Each).AddArgument($ready).AddArgument($gate)
            $jobs.Add([pscustomobject]@{ PowerShell = $ps; Handle = $ps.BeginInvoke() })
        }
        if (-not $ready.Wait(60000)) { throw "The $Workers runspaces did not all start within 60 s." }
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $gate.Set()
        foreach ($job in $jobs) { $null = $job.PowerShell.EndInvoke($job.Handle) }
        $watch.Stop()
        foreach ($job in $jobs) {
            if ($job.PowerShell.HadErrors) { throw "A runspace reported errors: $(($job.PowerShell.Streams.Error | Out-String).Trim())" }
        }
        $watch.Elapsed.TotalSeconds
    }
    finally {
        $gate.Set()
        foreach ($job in $jobs) {
            if (-not $job.Handle.IsCompleted) { $job.PowerShell.Stop() }
            $job.PowerShell.Dispose()
        }
        $ready.Dispose()
        $gate.Dispose()
    }
}

function Invoke-ContendedBench {
    $total = [long]$Runspaces * $IncrementsPerRunspace
    Write-Report "## 2. $Runspaces runspaces updating one key"
    Write-Report ''
    Write-Report "A RunspacePool of $Runspaces, opened and warmed before timing; each runspace updates key 'c' $(Format-Number $IncrementsPerRunspace 'N0') times ($(Format-Number $total 'N0') in all) after one common start signal; the time runs from the signal until the last finishes. $Rounds rounds, the variants in turn; min and median. The last row runs the same loop with an empty body: each variant's time includes it."
    Write-Report ''
    $pool = [runspacefactory]::CreateRunspacePool($Runspaces, $Runspaces)
    $pool.Open()
    try {
        $targets = @{
            SyncTable  = New-SyncTable
            Locked     = [hashtable]::Synchronized(@{})
            Concurrent = [System.Collections.Concurrent.ConcurrentDictionary[string, object]]::new([StringComparer]::OrdinalIgnoreCase)
            Naive      = [hashtable]::Synchronized(@{})
            LoopAlone  = @{}
        }
        $names = 'SyncTable', 'Locked', 'Concurrent', 'Naive', 'LoopAlone'
        $times = @{}; $totals = @{}
        foreach ($name in $names) { $times[$name] = [System.Collections.Generic.List[double]]::new(); $totals[$name] = [System.Collections.Generic.List[long]]::new() }
        foreach ($name in $names) {
            $targets[$name]['c'] = 0
            $null = Invoke-Contended -Pool $pool -Script $script:ContendedScripts[$name] -Target $targets[$name] -Workers $Runspaces -Each ([math]::Min($IncrementsPerRunspace, 2000))
        }
        for ($round = 0; $round -lt $Rounds; $round++) {
            foreach ($name in $names) {
                $targets[$name]['c'] = 0
                [GC]::Collect()
                $times[$name].Add((Invoke-Contended -Pool $pool -Script $script:ContendedScripts[$name] -Target $targets[$name] -Workers $Runspaces -Each $IncrementsPerRunspace))
                $totals[$name].Add([long]$targets[$name]['c'])
            }
        }
        $targets.SyncTable.Dispose()
    }
    finally {
        $pool.Close()
        $pool.Dispose()
    }
    $summary = @{}
    foreach ($name in $names) { $summary[$name] = Get-Summary $times[$name].ToArray() }
    $labels = @{
        SyncTable  = 'SyncTable `[void]$t.Increment(''c'')`'
        Locked     = 'hashtable, `Monitor.Enter($h.SyncRoot); $h.c++`'
        Concurrent = 'ConcurrentDictionary `AddOrUpdate(''c'', 1, $add)`'
        Naive      = 'hashtable, naive `$h.c++` (not atomic)'
        LoopAlone  = 'the loop alone, updating nothing (what each variant above includes)'
    }
    Write-Report '| variant | s (min / median) | updates/s (min time) | totals |'
    Write-Report '|---|---|---|---|'
    foreach ($name in $names) {
        $s = $summary[$name]
        $exact = @($totals[$name] | Where-Object { $_ -ne $total }).Count -eq 0
        $totalText = if ($name -eq 'LoopAlone') { '' } elseif ($exact) { "exact ($(Format-Number $total 'N0') every round)" } else { "$(@($totals[$name] | ForEach-Object { Format-Number $_ 'N0' }) -join ' / ') of $(Format-Number $total 'N0')" }
        $rate = if ($name -eq 'LoopAlone') { '' } else { Format-Number ($total / $s.Min) 'N0' }
        Write-Report "| $($labels[$name]) | $(Format-Number $s.Min 'N3') / $(Format-Number $s.Median 'N3') | $rate | $totalText |"
    }
    $ratioMin = $summary.Locked.Min / $summary.SyncTable.Min
    $ratioMedian = $summary.Locked.Median / $summary.SyncTable.Median
    $lost = ($totals.SyncTable | ForEach-Object { [math]::Abs($total - $_) } | Measure-Object -Maximum).Maximum
    Write-Report ''
    Write-Report '| ratio / check | value (min / median) | target | verdict |'
    Write-Report '|---|---|---|---|'
    Write-Report "| SyncTable speed-up over the Monitor-locked hashtable | $(Format-Number $ratioMin 'N2') / $(Format-Number $ratioMedian 'N2') | >= 2 | $(Get-Verdict $ratioMin 2 'AtLeast') |"
    $updateOnly = { param($of) ($summary.Locked.$of - $summary.LoopAlone.$of) / [math]::Max(1e-9, $summary.SyncTable.$of - $summary.LoopAlone.$of) }
    Write-Report "| the same, the loop alone taken off both (the updates themselves) | $(Format-Number (& $updateOnly 'Min') 'N2') / $(Format-Number (& $updateOnly 'Median') 'N2') | | info |"
    Write-Report "| SyncTable speed-up over ConcurrentDictionary.AddOrUpdate | $(Format-Number ($summary.Concurrent.Min / $summary.SyncTable.Min) 'N2') / $(Format-Number ($summary.Concurrent.Median / $summary.SyncTable.Median) 'N2') | | info |"
    Write-Report "| updates lost by SyncTable.Increment (worst round) | $(Format-Number $lost 'N0') | 0 | $(if ($lost -eq 0) { 'met' } else { 'FAIL' }) |"
    Write-Report ''
    $script:ContendedRatio = $ratioMin
    if ($lost -ne 0) { Add-Failure "SyncTable.Increment lost or invented updates: totals $($totals.SyncTable -join ', '), expected $total each round." }
    if (@($totals.Locked | Where-Object { $_ -ne $total }).Count -gt 0) { Add-Failure "The Monitor-locked hashtable totals were $($totals.Locked -join ', '), expected $total (the benchmark itself is broken)." }
}

# ---- 3. memory of many entries, each in a fresh pwsh -----------------------------------------

$script:MemoryChild = @'
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Import-Module '__MODULE__' -Force
$kind = '__KIND__'
$entries = __ENTRIES__
# Warm every path (native library loaded, loop and indexers compiled) before the baseline.
$w1 = [hashtable]::Synchronized(@{}); $w2 = New-SyncTable; $w3 = [System.Collections.Concurrent.ConcurrentDictionary[string, object]]::new([StringComparer]::OrdinalIgnoreCase)
for ($i = 0; $i -lt 2000; $i++) { $w1["k$i"] = $i; $w2["k$i"] = $i; $w3["k$i"] = $i }
$w2.Dispose(); $w1 = $null; $w2 = $null; $w3 = $null
Invoke-Settle
$proc = [System.Diagnostics.Process]::GetCurrentProcess()
$proc.Refresh()
$ws0 = $proc.WorkingSet64
$managed0 = [GC]::GetTotalMemory($true)
$table = switch ($kind) {
    'hashtable' { [hashtable]::Synchronized(@{}) }
    'concurrent' { [System.Collections.Concurrent.ConcurrentDictionary[string, object]]::new([StringComparer]::OrdinalIgnoreCase) }
    default { New-SyncTable }
}
for ($i = 0; $i -lt $entries; $i++) { $table["k$i"] = $i }
Invoke-Settle
$managed1 = [GC]::GetTotalMemory($true)
$proc.Refresh()
[pscustomobject]@{
    Kind       = $kind
    Count      = $table.Count
    Sample     = $table["k$($entries - 1)"]
    WorkingSet = $proc.WorkingSet64 - $ws0
    Managed    = $managed1 - $managed0
} | ConvertTo-Json -Compress
'@

function Invoke-MemoryChild {
    param([string]$Kind, [int]$Entries)
    $pwsh = Get-PwshCommand
    $settle = (Get-Command Invoke-Settle).ScriptBlock.ToString()
    $text = "function Invoke-Settle {$settle}`n" + $script:MemoryChild.Replace('__MODULE__', $ModulePath.Replace("'", "''")).Replace('__KIND__', $Kind).Replace('__ENTRIES__', [string]$Entries)
    $encoded = [Convert]::ToBase64String([System.Text.Encoding]::Unicode.GetBytes($text))
    $childArgs = @($pwsh.Prefix) + @('-NoProfile', '-NonInteractive', '-OutputFormat', 'Text', '-EncodedCommand', $encoded)
    $exe = $pwsh.File
    $output = & $exe @childArgs
    if ($LASTEXITCODE -ne 0) { throw "The $Kind memory child exited with $LASTEXITCODE. Output: $($output -join [Environment]::NewLine)" }
    $json = @($output | Where-Object { $_ -is [string] -and $_.TrimStart().StartsWith('{') }) | Select-Object -Last 1
    if (-not $json) { throw "The $Kind memory child printed no result. Output: $($output -join [Environment]::NewLine)" }
    $json | ConvertFrom-Json
}

function Invoke-MemoryBench {
    Write-Report "## 3. Memory of $(Format-Number $MemoryEntries 'N0') entries"
    Write-Report ''
    Write-Report "Each structure is filled with keys ""k<i>"" and int values by a ``for`` loop in a fresh pwsh (the module imported and every path warmed before the baseline), then measured after a full compacting GC: working-set growth of the process (managed and native memory) and GC.GetTotalMemory growth. Median of $MemoryRuns child process(es) per structure, the structures in turn."
    Write-Report ''
    $kinds = 'synctable', 'hashtable', 'concurrent'
    $samples = @{}
    foreach ($k in $kinds) { $samples[$k] = [System.Collections.Generic.List[object]]::new() }
    for ($run = 0; $run -lt $MemoryRuns; $run++) {
        foreach ($k in $kinds) { $samples[$k].Add((Invoke-MemoryChild -Kind $k -Entries $MemoryEntries)) }
    }
    foreach ($k in $kinds) {
        foreach ($r in $samples[$k]) {
            if ([long]$r.Count -ne $MemoryEntries -or [long]$r.Sample -ne ($MemoryEntries - 1)) {
                Add-Failure "The $k child ended with $($r.Count) entries (last value $($r.Sample)); expected $MemoryEntries (last value $($MemoryEntries - 1))."
            }
        }
    }
    $mb = 1024.0 * 1024.0
    $ws = @{}; $managed = @{}
    foreach ($k in $kinds) {
        $ws[$k] = Get-Median ([double[]]@($samples[$k] | ForEach-Object { [double]$_.WorkingSet }))
        $managed[$k] = Get-Median ([double[]]@($samples[$k] | ForEach-Object { [double]$_.Managed }))
    }
    $ratio = $ws.synctable / $ws.hashtable
    Write-Report '| growth after GC (MiB, median) | SyncTable | hashtable | ConcurrentDictionary | SyncTable / hashtable |'
    Write-Report '|---|---|---|---|---|'
    Write-Report "| process working set | $(Format-Number ($ws.synctable / $mb) 'N1') | $(Format-Number ($ws.hashtable / $mb) 'N1') | $(Format-Number ($ws.concurrent / $mb) 'N1') | $(Format-Number $ratio 'N3') |"
    Write-Report "| GC.GetTotalMemory (managed only) | $(Format-Number ($managed.synctable / $mb) 'N1') | $(Format-Number ($managed.hashtable / $mb) 'N1') | $(Format-Number ($managed.concurrent / $mb) 'N1') | |"
    Write-Report ''
    Write-Report "Per child, working-set growth MiB: SyncTable $(($samples.synctable | ForEach-Object { Format-Number ($_.WorkingSet / $mb) 'N1' }) -join ' / '); hashtable $(($samples.hashtable | ForEach-Object { Format-Number ($_.WorkingSet / $mb) 'N1' }) -join ' / '); ConcurrentDictionary $(($samples.concurrent | ForEach-Object { Format-Number ($_.WorkingSet / $mb) 'N1' }) -join ' / ')."
    Write-Report ''
    Write-Report '| ratio | value | target | verdict |'
    Write-Report '|---|---|---|---|'
    Write-Report "| working-set growth SyncTable / hashtable | $(Format-Number $ratio 'N3') | <= 1.0 | $(Get-Verdict $ratio 1.0 'AtMost') |"
    Write-Report ''
}

# ---- run -------------------------------------------------------------------------------------

Write-Report '# SyncTable vs [hashtable]::Synchronized and ConcurrentDictionary (PowerShell level)'
Write-Report ''
Write-EnvironmentReport
Write-Report "- sizes: Iterations=$Iterations, Rounds=$Rounds, Runspaces=$Runspaces, IncrementsPerRunspace=$IncrementsPerRunspace, MemoryEntries=$MemoryEntries, MemoryRuns=$MemoryRuns"
Write-Report '- Every ratio compares measurements taken in this same run; absolute numbers depend on the machine (a shared 2-core VM is noisy: the minimum is the least disturbed figure).'
Write-Report ''

$scriptWatch = [System.Diagnostics.Stopwatch]::StartNew()
try {
    Invoke-OneRunspaceBench
    Invoke-ContendedBench
    Invoke-MemoryBench
}
catch {
    Write-Host $_.ScriptStackTrace
    Add-Failure "The benchmark stopped: $($_.Exception.Message)"
}
finally {
    $scriptWatch.Stop()
    Write-Report "Total time: $(Format-Number $scriptWatch.Elapsed.TotalSeconds 'N1') s."
    if ($script:Failures.Count -gt 0) {
        Write-Report ''
        Write-Report "**$($script:Failures.Count) failure(s)**: $($script:Failures -join ' ')"
    }
    Save-Report -Name 'table'
}

if ($script:Failures.Count -gt 0) { exit 1 }
exit 0

# Pester 5 suite for parallel tasks behaving like PowerShell: results as
# they finish, common parameters, the peers' behaviours (ForEach-Object
# -Parallel's and ThreadJob's own tests, adapted), consistent errors, tab
# completion and the public surface.

BeforeAll {
    . $PSScriptRoot/TestSupport.ps1
    Import-Module $env:SYNCPOOL_MODULE_PATH -Force

    function Remove-AllParallel {
        Get-ParallelTask | Remove-ParallelTask -Force -Confirm:$false
        Get-ParallelPool | Where-Object { -not $_.IsPerCall } | Remove-ParallelPool -Confirm:$false
    }

    function Get-Completion([string] $Line) {
        (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches.CompletionText
    }
}

Describe 'Results as the tasks finish' {
    BeforeEach { Register-CurrentTest }
    AfterAll { Remove-AllParallel }

    It 'writes each task''s results as soon as it finishes, in completion order' {
        $arrived = 1..5 | Start-ParallelTask { Start-Sleep -Milliseconds (150 * (6 - $_)); $_ } -ThrottleLimit 5 |
            Wait-ParallelTask -Receive | ForEach-Object { [pscustomobject]@{ Value = $_; At = [DateTime]::UtcNow } }
        $arrived.Value | Should -Be @(5, 4, 3, 2, 1)
        # The first result was written well before the last task ended (not all at the end).
        ($arrived[-1].At - $arrived[0].At).TotalMilliseconds | Should -BeGreaterThan 300
    }

    It 'keeps input order with -InputOrder, still writing each result once those before it are written' {
        $arrived = 1..4 | Start-ParallelTask { Start-Sleep -Milliseconds (200 * $_); $_ } -ThrottleLimit 4 |
            Wait-ParallelTask -Receive -InputOrder | ForEach-Object { [pscustomobject]@{ Value = $_; At = [DateTime]::UtcNow } }
        $arrived.Value | Should -Be @(1, 2, 3, 4)
        ($arrived[-1].At - $arrived[0].At).TotalMilliseconds | Should -BeGreaterThan 300
        $reversed = 1..4 | Start-ParallelTask { Start-Sleep -Milliseconds (100 * (5 - $_)); $_ } -ThrottleLimit 4 | Wait-ParallelTask -Receive -InputOrder
        $reversed | Should -Be @(1, 2, 3, 4)
    }

    It 'streams the same way with Receive-ParallelTask -Wait, and removes what it received' {
        $r = 1..3 | Start-ParallelTask { Start-Sleep -Milliseconds (150 * (4 - $_)); $_ } -ThrottleLimit 3 | Receive-ParallelTask -Wait
        $r | Should -Be @(3, 2, 1)
        @(Get-ParallelTask).Count | Should -Be 0
        $k = 1..2 | Start-ParallelTask { $_ } | Receive-ParallelTask -Wait -InputOrder -Keep
        $k | Should -Be @(1, 2)
        @(Get-ParallelTask).Count | Should -Be 2
    }

    It 'keys -AsHashtable by input, with a failed input''s error pointing at that input' {
        $h = 1..3 | Start-ParallelTask { if ($_ -eq 2) { throw "bad $_" }; "ok$_" } | Wait-ParallelTask -AsHashtable -ErrorVariable failed -ErrorAction SilentlyContinue
        $h[1] | Should -Be 'ok1'
        $h[3] | Should -Be 'ok3'
        $h.ContainsKey(2) | Should -BeTrue
        $failed.Count | Should -Be 1
        $failed[0].TargetObject | Should -Be 2
        $failed[0].Exception.Message | Should -Be 'bad 2'
    }

    It 'ends the wait at once when a later command needs no more (Select-Object -First), stopping the rest' {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $first = 1..8 | Start-ParallelTask { if ($_ -gt 1) { Start-Sleep 20 }; $_ } -ThrottleLimit 8 | Wait-ParallelTask -Receive | Select-Object -First 1
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 10
        $first | Should -Be 1
        $left = @(Get-ParallelTask)
        @($left | Where-Object { -not $_.IsFinished }).Count | Should -Be 0
        @($left | Where-Object State -eq 'Stopped').Count | Should -Be 7
        ($left | Where-Object State -eq 'Stopped')[0].StatusMessage | Should -BeLike '*Wait-ParallelTask waiting for it was stopped*'
    }
}

Describe 'Common parameters flow into the tasks' {
    BeforeEach { Register-CurrentTest }
    AfterAll { Remove-AllParallel }

    It '-ErrorAction Stop makes a task''s first error terminating: it fails, and nothing after the error runs' {
        $t = Start-ParallelTask { Write-Error 'e1'; 'after' } -ErrorAction Stop
        $null = $t | Wait-ParallelTask
        $t.State | Should -Be 'Failed'
        $t.Errors[0].Exception.Message | Should -Be 'e1'
        ($t | Receive-ParallelTask -ErrorAction SilentlyContinue) | Should -BeNullOrEmpty
    }

    It '-ErrorAction SilentlyContinue keeps errors out of what the task writes' {
        $r = Start-ParallelTask { Write-Error 'quiet'; 'out' } -ErrorAction SilentlyContinue | Wait-ParallelTask -Receive -ErrorVariable got
        $r | Should -Be 'out'
        $got.Count | Should -Be 0
    }

    It '-WarningAction SilentlyContinue and -InformationAction Continue set the task''s preferences' {
        $r = Start-ParallelTask { Write-Warning 'w'; 'out' } -WarningAction SilentlyContinue | Wait-ParallelTask -Receive -WarningVariable w
        $r | Should -Be 'out'
        $w.Count | Should -Be 0
        # Information records always reach the stream (the preference decides whether they are shown).
        $shown = Start-ParallelTask { Write-Information 'i' } -InformationAction Continue | Wait-ParallelTask -Receive -InformationAction Continue 6>&1
        $shown.MessageData | Should -Be 'i'
        $t = Start-ParallelTask { $InformationPreference }
        $null = $t | Wait-ParallelTask
        ($t | Receive-ParallelTask) | Should -Be 'SilentlyContinue'
        (Start-ParallelTask { $InformationPreference } -InformationAction Continue | Wait-ParallelTask -Receive) | Should -Be 'Continue'
    }

    It '-Verbose and -Debug make tasks write those records; the receiving cmdlet''s preference shows them' {
        $verbose = Start-ParallelTask { Write-Verbose 'v'; Write-Debug 'd' } -Verbose -Debug | Wait-ParallelTask -Receive -Verbose -Debug 4>&1 5>&1
        ($verbose | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -eq 'v' }).Count | Should -Be 1
        ($verbose | Where-Object { $_ -is [System.Management.Automation.DebugRecord] }).Message | Should -Be 'd'
        $t = Start-ParallelTask { Write-Verbose 'not asked' }
        $null = $t | Wait-ParallelTask
        $none = $t | Receive-ParallelTask -Verbose 4>&1
        $none | Should -BeNullOrEmpty
    }

    It 'on Wait-ParallelTask / Receive-ParallelTask they govern how the records are written' {
        { Start-ParallelTask { Write-Error 'e2' } | Wait-ParallelTask -Receive -ErrorAction Stop } | Should -Throw 'e2'
        $r = Start-ParallelTask { Write-Warning 'w2'; 1 } | Wait-ParallelTask -Receive -WarningAction SilentlyContinue 3>&1
        $r | Should -Be 1
        $r = Start-ParallelTask { Write-Warning 'w3'; 1 } | Wait-ParallelTask -Receive 3>&1
        ($r | Where-Object { $_ -is [System.Management.Automation.WarningRecord] }).Message | Should -Be 'w3'
    }
}

Describe 'What the peers'' suites require' {
    BeforeEach { Register-CurrentTest }
    AfterAll { Remove-AllParallel }

    It 'refuses a scriptblock piped in as an item before anything runs' {
        { { 'x' } | Start-ParallelTask { & $_ } } | Should -Throw -ErrorId 'SyncPool.PipedScriptBlock,*'
        { Start-ParallelTask { & $_ } -InputObject { 'x' } } | Should -Throw -ErrorId 'SyncPool.PipedScriptBlock,*'
        @(Get-ParallelTask).Count | Should -Be 0
    }

    It 'stops the call''s earlier tasks when a later item is a scriptblock' {
        { 1, { 'x' } | Start-ParallelTask { Start-Sleep 20 } } | Should -Throw -ErrorId 'SyncPool.PipedScriptBlock,*'
        @(Get-ParallelTask | Where-Object { -not $_.IsFinished }).Count | Should -Be 0
    }

    It 'keeps a re-emitted error''s FullyQualifiedErrorId, category, TargetObject and InvocationInfo, and adds the task' {
        $t = Start-ParallelTask { Get-Item -LiteralPath '/no/such/path/42' } -Name 'finds-nothing'
        $t | Wait-ParallelTask -Receive -ErrorVariable got -ErrorAction SilentlyContinue
        $got[0].FullyQualifiedErrorId | Should -Be 'PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand'
        $got[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $got[0].TargetObject | Should -Be '/no/such/path/42'
        $got[0].InvocationInfo.MyCommand.Name | Should -Be 'Get-Item'
        $got[0].ParallelTask.Name | Should -Be 'finds-nothing'
        # The task keeps its own record unchanged.
        $t.Errors[0].FullyQualifiedErrorId | Should -Be 'PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand'
    }

    It 'writes an error per timed-out task (its input as target), keeping what it wrote before' {
        $r = 1..2 | Start-ParallelTask { "before $_"; Start-Sleep 10 } -TimeoutSeconds 0.5 | Wait-ParallelTask -Receive -ErrorVariable timedOut -ErrorAction SilentlyContinue
        ($r | Sort-Object) | Should -Be @('before 1', 'before 2')
        $timedOut.Count | Should -Be 2
        $timedOut | ForEach-Object { $_.FullyQualifiedErrorId | Should -BeLike 'SyncPool.TaskTimedOut,*' }
        ($timedOut.TargetObject | Sort-Object) | Should -Be @(1, 2)
        $timedOut[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        { Start-ParallelTask { Start-Sleep 10 } -TimeoutSeconds 0.3 | Wait-ParallelTask -Receive -ErrorAction Stop } | Should -Throw -ErrorId 'SyncPool.TaskTimedOut,*'
    }

    It 'writes the same per-task error when Wait-ParallelTask -Timeout ends them' {
        $r = 1..2 | Start-ParallelTask { "x$_"; Start-Sleep 10 } | Wait-ParallelTask -Receive -Timeout 0.5 -ErrorVariable ended -ErrorAction SilentlyContinue
        ($r | Sort-Object) | Should -Be @('x1', 'x2')
        ($ended | ForEach-Object { $_.FullyQualifiedErrorId }) | Sort-Object -Unique | Should -BeLike 'SyncPool.TaskTimedOut,*'
    }

    It 'names tasks with a -Name scriptblock, per item' {
        $tasks = 'a', 'b' | Start-ParallelTask { $_ } -Name { "job-$_" }
        $tasks.Name | Should -Be @('job-a', 'job-b')
        $null = $tasks | Wait-ParallelTask -Receive
        { 1 | Start-ParallelTask { $_ } -Name { throw 'no name' } } | Should -Throw 'no name'
    }
}

Describe 'Consistent errors' {
    BeforeEach { Register-CurrentTest }
    AfterAll { Remove-AllParallel }

    It 'reports every lookup that finds nothing as ObjectNotFound with its own id' {
        $cases = @(
            @{ Id = 'SyncPool.PoolNotFound'; Run = { Get-ParallelPool -Id 987654 -ErrorAction Stop } }
            @{ Id = 'SyncPool.PoolNotFound'; Run = { Get-ParallelPool -Name 'no-such-pool' -ErrorAction Stop } }
            @{ Id = 'SyncPool.PoolNotFound'; Run = { Start-ParallelTask { 1 } -Pool 'no-such-pool' } }
            @{ Id = 'SyncPool.PoolNotFound'; Run = { Get-ParallelTask -Pool 987654 -ErrorAction Stop } }
            @{ Id = 'SyncPool.PoolNotFound'; Run = { $p = New-ParallelPool; $p | Remove-ParallelPool; Get-ParallelTask -Pool $p -ErrorAction Stop } }
            @{ Id = 'SyncPool.PoolNotFound'; Run = { Remove-ParallelPool -Name 'no-such-pool' -ErrorAction Stop } }
            @{ Id = 'SyncPool.TaskNotFound'; Run = { Get-ParallelTask -Id 987654 -ErrorAction Stop } }
            @{ Id = 'SyncPool.TaskNotFound'; Run = { Get-ParallelTask -Name 'no-such-task' -ErrorAction Stop } }
            @{ Id = 'SyncPool.TaskNotFound'; Run = { Wait-ParallelTask -Name 'no-such-task' -ErrorAction Stop } }
            @{ Id = 'SyncPool.TaskNotFound'; Run = { Stop-ParallelTask -Id 987654 -ErrorAction Stop } }
            @{ Id = 'SyncPool.FunctionNotFound'; Run = { Start-ParallelTask { 1 } -ImportFunction 'No-SuchFunction42' } }
            @{ Id = 'SyncPool.ModuleNotFound'; Run = { Start-ParallelTask { 1 } -ImportModule './no/such/module.psd1' } }
        )
        foreach ($case in $cases) {
            $caught = $null
            try { & $case.Run } catch { $caught = $_ }
            $caught | Should -Not -BeNullOrEmpty -Because "$($case.Run) must fail"
            $caught.FullyQualifiedErrorId | Should -BeLike "$($case.Id),*" -Because "$($case.Run)"
            $caught.CategoryInfo.Category | Should -Be 'ObjectNotFound' -Because "$($case.Run)"
        }
    }

    It 'shows the throttle a pool made without -ThrottleLimit really has, not 0' {
        $p = New-ParallelPool
        try {
            $p.ThrottleLimit | Should -BeGreaterThan 0
            $tasks = 1..($p.ThrottleLimit + 2) | Start-ParallelTask { Start-Sleep 30 } -Pool $p
            $sw = [Diagnostics.Stopwatch]::StartNew()
            while (@($tasks | Where-Object State -eq 'Running').Count -lt $p.ThrottleLimit -and $sw.Elapsed.TotalSeconds -lt 30) { Start-Sleep -Milliseconds 20 }
            @($tasks | Where-Object State -eq 'Running').Count | Should -Be $p.ThrottleLimit
            $tasks | Stop-ParallelTask
        }
        finally { $p | Remove-ParallelPool }
        $p.ThrottleLimit | Should -BeGreaterThan 0 -Because 'a removed pool keeps its throttle'
        $call = Start-ParallelTask { 1 }
        $call.Pool.ThrottleLimit | Should -BeGreaterThan 0
        $null = $call | Wait-ParallelTask -Receive
        $call.Pool.ThrottleLimit | Should -BeGreaterThan 0 -Because 'so does a per-call pool that is done'
    }

    It 'lets -ErrorAction SilentlyContinue silence Get-ParallelTask -Pool of a removed pool object' {
        $p = New-ParallelPool
        $p | Remove-ParallelPool
        $err = $null
        Get-ParallelTask -Pool $p -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.PoolNotFound,*'
    }

    It 'returns nothing, and no error, for a wildcard that matches nothing' {
        Get-ParallelTask -Name 'nothing-here-*' -ErrorVariable none | Should -BeNullOrEmpty
        Get-ParallelPool -Name 'nothing-here-*' -ErrorVariable none2 | Should -BeNullOrEmpty
        $none.Count + $none2.Count | Should -Be 0
    }

    It 'means the same by -Timeout on every Wait cmdlet: -1 is no limit, 0 does not wait, below -1 is refused' {
        (Start-ParallelTask { 7 } | Wait-ParallelTask -Receive -Timeout -1) | Should -Be 7
        $table = New-SyncTable
        try {
            $table.k = 1
            (Wait-SyncTable -Table $table -Key k -Timeout -1) | Should -Not -BeNullOrEmpty
            { Wait-SyncTable -Table $table -Key missing -Timeout 0 -ErrorAction Stop } | Should -Throw -ErrorId 'SyncPool.WaitTimeout,*'
            { Wait-SyncTable -Table $table -Key k -Timeout -2 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        }
        finally {
            $table | Remove-SyncTable -Confirm:$false
        }
        $slow = Start-ParallelTask { Start-Sleep 10 }
        $null = $slow | Wait-ParallelTask -Any -Timeout 0
        $slow.IsFinished | Should -BeFalse
        { $slow | Wait-ParallelTask -Timeout -2 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        $slow | Stop-ParallelTask
    }
}

Describe 'Tab completion' {
    BeforeEach { Register-CurrentTest }
    AfterAll { Remove-AllParallel }

    It 'completes -Pool, -Name, -Id and -State from what exists' {
        $pool = New-ParallelPool -Name 'completion pool'
        $tasks = 1..2 | Start-ParallelTask { Start-Sleep 5 } -Name { "complete-me-$_" }
        try {
            Get-Completion 'Start-ParallelTask { 1 } -Pool comp' | Should -Contain "'completion pool'"
            Get-Completion 'Get-ParallelTask -Pool comp' | Should -Contain "'completion pool'"
            Get-Completion 'Remove-ParallelPool -Name comp' | Should -Contain "'completion pool'"
            Get-Completion 'Get-ParallelPool -Id ' | Should -Contain "$($pool.Id)"
            Get-Completion 'Get-ParallelTask -Name complete-me' | Should -Be @('complete-me-1', 'complete-me-2')
            Get-Completion 'Stop-ParallelTask -Name complete-me-2' | Should -Be 'complete-me-2'
            Get-Completion 'Wait-ParallelTask -Id ' | Should -Contain "$($tasks[0].Id)"
            Get-Completion 'Receive-ParallelTask -Id ' | Should -Contain "$($tasks[1].Id)"
            Get-Completion 'Get-ParallelTask -State Ti' | Should -Be 'TimedOut'
            Get-Completion 'Get-ParallelTask -State ' | Should -Be @('Queued', 'Running', 'Completed', 'Failed', 'Stopped', 'TimedOut')
        }
        finally {
            $tasks | Stop-ParallelTask
            Remove-ParallelPool -Pool $pool -Confirm:$false
        }
    }

    It 'completes Get-SyncTable -Name from the named tables' {
        $table = New-SyncTable -Name 'completion-table'
        try {
            Get-Completion 'Get-SyncTable -Name completion' | Should -Be 'completion-table'
        }
        finally {
            $table | Remove-SyncTable -Confirm:$false
        }
    }
}

Describe 'The public surface' {
    BeforeEach { Register-CurrentTest }
    AfterAll { Remove-AllParallel }

    It 'shows only user-facing members on tasks, pools and tables' {
        $task = Start-ParallelTask { 1 }
        $null = $task | Wait-ParallelTask
        $pool = New-ParallelPool -Name 'surface-pool'
        $table = New-SyncTable
        try {
            $internal = @{
                ParallelTask = 'AddOutput', 'TakeResults', 'Submit', 'ReportFault', 'Results', 'Native', 'Attach', 'Script', 'RegistryId', 'Stop', 'Unlist'
                TaskPool     = 'Submit', 'Seal', 'Remove', 'EndCall', 'NativeId', 'ContextKey', 'Variables', 'NotFoundKey', 'ReportFault'
                SyncTable    = 'Handle', 'NativeId', 'RegistryId', 'ReportFault', 'Native', 'ExportJson', 'ImportJson', 'WaitForValue', 'Entries'
            }
            foreach ($object in $task, $pool, $table) {
                $type = $object.GetType().Name
                $names = ($object | Get-Member -Force).Name
                foreach ($name in $internal[$type]) { $names | Should -Not -Contain $name -Because "$type.$name is for SyncPool itself" }
            }
        }
        finally {
            Remove-ParallelPool -Pool $pool -Confirm:$false
            $table | Remove-SyncTable -Confirm:$false
            $task | Remove-ParallelTask
        }
    }

    It 'fits the task and pool tables in 120 columns and shows states by name' {
        $task = Start-ParallelTask { 'x' } -InputObject ('y' * 300)
        $null = $task | Wait-ParallelTask
        $pool = New-ParallelPool -Name ('p' * 40)
        try {
            foreach ($text in ($task | Format-Table | Out-String -Width 250), (Get-ParallelPool | Format-Table | Out-String -Width 250)) {
                foreach ($line in ($text -split "`r?`n")) { $line.TrimEnd().Length | Should -BeLessOrEqual 120 }
            }
            ($task | Format-Table | Out-String) | Should -Match 'Id\s+Name\s+State\s+Duration\s+Output\s+Errors\s+Input'
            ($task.State | Out-String).Trim() | Should -Be 'Completed'
            (Get-ParallelPool -Name $pool.Name | Format-Table | Out-String) | Should -Match 'Name\s+Throttle\s+Running\s+Queued\s+Finished'
        }
        finally {
            Remove-ParallelPool -Pool $pool -Confirm:$false
            $task | Remove-ParallelTask
        }
    }
}

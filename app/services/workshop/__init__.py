"""The workshop (车间): tasks, dispatch, clocked work and checks, the foreman's board, the
technician's tablet and the promised time."""

// The flat index of this workgroup when the host spreads a long range over x and y
// (maxComputeWorkGroupCount[0] can be as small as 65535; the vocabulary is 201088 rows).
uint flat_workgroup_id() { return gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x; }

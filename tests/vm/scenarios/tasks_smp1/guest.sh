#!/bin/sh
# tasks_smp1: tasks_smp2's steps (its guest.sh, in the image as
# /klpt/scenarios/tasks_smp2.sh) on 1 vCPU (vm.env).
exec sh /klpt/scenarios/tasks_smp2.sh
